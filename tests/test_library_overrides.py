"""The hub's overrides of private library internals (the ``*_overrides`` modules) still fit the installed
libraries: each test fails when a signature or shape relied on changes, and the pins in pyproject.toml
match what these tests were run with. `make test` runs this file on Python 3.11 and 3.13 (Quart 0.22, 0.23).
"""

from __future__ import annotations

import asyncio
import importlib.metadata
import inspect
import json
import sys
import tomllib
from pathlib import Path

import aiohttp.helpers
import pytest
import quart
import structlog
from packaging.requirements import Requirement
from packaging.version import Version
from quart.asgi import ASGIHTTPConnection
from quart.wrappers.request import Body

from hub_core.db import tortoise_overrides
from hub_core.infra import json_overrides, jsonio, structlog_overrides
from hub_core.infra.logging import _render_json
from hub_core.web import hypercorn_overrides, quart_overrides

PYPROJECT = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text())
PINNED = {"quart", "hypercorn", "tortoise-orm", "aiohttp", "structlog"}


def params(fn: object) -> tuple[str, ...]:
    return tuple(inspect.signature(fn).parameters)  # type: ignore[arg-type]


def test_every_library_with_overrides_is_pinned_and_the_installed_version_is_in_range():
    requirements = {Requirement(r).name: Requirement(r) for r in PYPROJECT["project"]["dependencies"]}
    for name in PINNED:
        spec = requirements[name].specifier
        assert any(s.operator == "<" for s in spec), f"{name} has no upper bound: {spec}"
        assert Version(importlib.metadata.version(name)) in spec, name


# --- Quart ----


def test_quart_is_the_version_this_python_gets():
    """0.23 needs Python 3.13; the lock gives 0.22 below it. Both are the versions the overrides know."""
    expected = "0.23" if sys.version_info >= (3, 13) else "0.22"
    assert importlib.metadata.version("quart").startswith(expected + ".")


def test_quart_asgi_connection_has_the_shape_the_single_task_handler_relies_on():
    assert params(ASGIHTTPConnection.__init__) == ("self", "app", "scope")
    assert params(ASGIHTTPConnection._create_request_from_scope) == ("self", "send")
    assert params(ASGIHTTPConnection.handle_request) == ("self", "request", "send")
    assert params(ASGIHTTPConnection._send_response) == ("self", "send", "response")
    assert params(ASGIHTTPConnection.handle_messages) in quart_overrides.HANDLE_MESSAGES
    assert params(quart_overrides.SingleTaskHTTPConnection._send_response) == ("self", "send", "response")


def test_quart_request_has_what_the_request_override_replaces_and_calls():
    request_cls = quart.Request
    assert params(request_cls.get_data) == ("self", "cache", "as_text", "parse_form_data")
    assert params(quart_overrides.HubRequest.get_data) == params(request_cls.get_data)
    assert inspect.iscoroutinefunction(request_cls._load_form_data)
    assert isinstance(inspect.getattr_static(request_cls, "blueprints"), property)
    assert callable(Body.clear) and callable(Body.set_complete)
    assert hasattr(request_cls, "body_timeout") or "body_timeout" in params(request_cls.__init__)


def test_quart_body_keeps_the_state_the_keep_alive_check_reads():
    body = Body(expected_content_length=10, max_content_length=5)
    assert isinstance(body._complete, asyncio.Event) and not body._complete.is_set()
    assert body._must_raise is not None  # announced as too large
    assert Body(None, None)._must_raise is None
    assert params(quart_overrides.body_received) == ("request", "headers")


# --- Hypercorn ----


def test_hypercorn_tcp_server_keeps_its_idle_timeout_where_the_override_replaces_it():
    from hypercorn.asyncio import tcp_server
    from hypercorn.asyncio.worker_context import AsyncioSingleTask, WorkerContext

    init = inspect.getsource(tcp_server.TCPServer.__init__)
    assert "self.idle_task = AsyncioSingleTask()" in init  # looked up by module name at connect time
    assert hasattr(tcp_server, "AsyncioSingleTask")
    for name in ("restart", "stop"):
        ours = getattr(hypercorn_overrides.IdleTimer, name)
        assert params(getattr(AsyncioSingleTask, name)) == params(ours)
    idle = inspect.getsource(tcp_server.TCPServer._idle_timeout)
    assert "keep_alive_timeout" in idle and "terminated.wait()" in idle and "_initiate_server_close" in idle
    assert params(tcp_server.TCPServer._initiate_server_close) == ("self",)
    assert "idle_task.restart(self._task_group, self._idle_timeout)" in inspect.getsource(
        tcp_server.TCPServer.protocol_send
    )
    assert params(WorkerContext.__init__) == ("self", "max_requests")


# --- json (standard library) ----

SAMPLE = {"a": [1, 2.5, None, True], "é": "snow ☃ \ud800", "nested": {"k": ""}}


def test_json_c_encoder_gives_what_json_dumps_gives():
    compact = json_overrides.c_encoder(str, ":", ",")
    if compact is None:  # a Python without json's C accelerator: the hub uses json.dumps
        pytest.skip("no C encoder on this Python")
    assert "".join(compact(SAMPLE, 0)) == json.dumps(SAMPLE, separators=(",", ":"))
    assert jsonio.dumps_bytes(SAMPLE) == json.dumps(SAMPLE, separators=(",", ":")).encode()
    event = {"event": "x", "obj": object}
    assert _render_json(None, "info", event) == json.dumps(event, default=repr)


def test_json_scanner_gives_what_json_loads_gives():
    text = json.dumps(SAMPLE)
    value, end = json_overrides.scan_once(text, 0)
    assert (value, end) == (json.loads(text), len(text))
    assert json_overrides.whitespace(" \n\t x", 0).end() == 4
    with pytest.raises(StopIteration):
        json_overrides.scan_once("?", 0)
    assert jsonio.loads(text.encode()) == json.loads(text)


# --- structlog ----


def test_structlog_keeps_its_context_variables_where_the_log_context_reads_them():
    assert structlog_overrides.CONTEXT_VARS is not None, "structlog moved _CONTEXT_VARS"
    structlog.contextvars.bind_contextvars(override_probe=1)
    try:
        keys = [
            k
            for k in structlog_overrides.CONTEXT_VARS
            if k[structlog_overrides.PREFIX_LEN :] == "override_probe"
        ]
        assert len(keys) == 1
        assert structlog_overrides.CONTEXT_VARS[keys[0]].get() == 1
    finally:
        structlog.contextvars.unbind_contextvars("override_probe")
    assert structlog_overrides.CONTEXT_VARS[keys[0]].get() is Ellipsis  # structlog's "unbound"


# --- aiohttp ----


def test_aiohttp_proxy_helpers_have_the_signatures_the_upstream_client_calls():
    assert params(aiohttp.helpers.get_env_proxy_for_url) == ("url",)
    assert params(aiohttp.helpers.netrc_from_env) == ()


def test_aiohttp_proxy_lookup_answers_as_the_upstream_client_expects(monkeypatch):
    from yarl import URL

    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", "internal.example")
    proxy, auth = aiohttp.helpers.get_env_proxy_for_url(URL("https://api.example/v1"))
    assert (str(proxy), auth) == ("http://proxy.example:3128", None)
    with pytest.raises(LookupError):
        aiohttp.helpers.get_env_proxy_for_url(URL("https://internal.example/v1"))


# --- Tortoise ----


async def test_tortoise_internals_the_usage_writer_uses(tmp_path):
    from tortoise.context import TortoiseContext

    from hub_core import db
    from hub_core.db import models as m
    from hub_core.testing.pytest_plugin import make_settings

    settings = make_settings(tmp_path / "data")
    await db.upgrade(settings)
    ctx = await db.connect(settings)
    try:
        outer = asyncio.current_task()

        async def in_another_task() -> bool:
            tortoise_overrides.activate(ctx)
            conn = tortoise_overrides.connection_of(m.ModelCall)
            rows = await conn.execute_query_dict("SELECT 1 AS one")
            return rows == [{"one": 1}] and asyncio.current_task() is not outer

        assert await asyncio.create_task(in_another_task())
        conn = tortoise_overrides.connection_of(m.UsageRollup)
        assert tortoise_overrides.is_postgres(conn) is False
        to_db = tortoise_overrides.to_db_value(m.ModelCall, "metadata")
        assert json.loads(to_db({"a": 1}, None)) == {"a": 1}
        assert isinstance(ctx, TortoiseContext)
    finally:
        await db.close(ctx)


def test_tortoise_pooled_transaction_context_does_what_the_safe_one_repeats():
    """`hub_core.db.postgres.SafeTransactionContext` repeats Tortoise's pooled transaction steps with a
    cleanup that always runs; if Tortoise changes those steps (or stops using that class for asyncpg), the
    copy must be looked at again."""
    from tortoise.backends.asyncpg.client import AsyncpgDBClient
    from tortoise.backends.base.client import TransactionContextPooled

    from hub_core.db.postgres import SafeTransactionContext, TimedAsyncpgClient

    assert TransactionContextPooled.__aenter__.__code__.co_names == (
        "ensure_connection", "client", "_parent", "_pool", "acquire", "_connection", "get_connections", "set",
        "connection_name", "token", "begin",
    )  # fmt: skip
    assert TransactionContextPooled.__aexit__.__code__.co_names == (
        "client", "_finalized", "TransactionManagementError", "rollback", "commit", "_parent", "_pool",
        "release", "_connection", "get_connections", "reset", "token",
    )  # fmt: skip
    assert AsyncpgDBClient._in_transaction.__code__.co_names == (
        "TransactionContextPooled", "TransactionWrapper", "_pool_init_lock",
    )  # fmt: skip
    assert issubclass(SafeTransactionContext, TransactionContextPooled)
    assert TimedAsyncpgClient._in_transaction is not AsyncpgDBClient._in_transaction


def test_tortoise_pooled_connection_wrapper_does_what_the_timed_one_repeats():
    """`hub_core.db.postgres.TimedConnectionWrapper` repeats Tortoise's per-query connection steps with the
    circuit breaker, and asyncpg's pool runs a reset query on release unless the connection is closed (why a
    connection is terminated, not released, once the database stopped answering)."""
    from asyncpg.pool import PoolConnectionHolder
    from tortoise.backends.base.client import PoolConnectionWrapper
    from tortoise.backends.base_postgres.client import BasePostgresClient

    from hub_core.db.postgres import TimedAsyncpgClient, TimedConnectionWrapper

    assert PoolConnectionWrapper.__aenter__.__code__.co_names == (
        "ensure_connection", "client", "_pool", "acquire", "connection", "cast", "T_conn",
    )  # fmt: skip
    assert PoolConnectionWrapper.__aexit__.__code__.co_names == ("client", "_pool", "release", "connection")
    assert BasePostgresClient.acquire_connection.__code__.co_names == (
        "PoolConnectionWrapper",
        "_pool_init_lock",
    )
    assert issubclass(TimedConnectionWrapper, PoolConnectionWrapper)
    assert TimedAsyncpgClient.acquire_connection is not BasePostgresClient.acquire_connection
    release = PoolConnectionHolder.release.__code__.co_names
    assert {"is_closed", "terminate", "_wait_for_cancellation", "reset"} <= set(release)
