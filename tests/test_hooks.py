"""Every hook, exercised through test plugins loaded from entry points into a real hub on a real socket.

Most implementations in ``tests/plugins/hubtest_plugins/hooks.py`` are ``async def``; the built-in defaults
are ``trylast``, so each test also shows a third-party implementation taking precedence. The last tests are
datasette-style guards: a hook without a test here, or without documentation, fails the suite.
"""

from __future__ import annotations

import ast
import asyncio
import inspect
import json
import os
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import click
import openai
import pytest

sys.path.insert(0, str(Path(__file__).parent / "plugins"))

from hubtest_plugins import (
    PLUGINS_DIR,
    entry_point,
    installed,
    vault,
    witness,
    write_dist_info,
)
from hubtest_plugins import hooks as hubtest
from hubtest_plugins.cli import ok, run_cli
from hubtest_plugins.http import call, chat

from hub_core import db, hookimpl, hookspecs
from hub_core.config import Settings
from hub_core.hub import build_plugin_host
from hub_core.testing.pytest_plugin import make_settings
from hub_core.testing.server import HubServer

ROOT = Path(__file__).resolve().parent.parent
Start = Callable[..., HubServer]


@pytest.fixture
def start_hub(hub_server_factory, tmp_path, fake_openai_thread) -> Iterator[Start]:
    """Start a hub with the openai plugin plus the named test plugins, openai configured on the fake."""
    hubtest.reset()
    vault.VAULT.clear()
    fake = fake_openai_thread
    count = 0

    def start(*plugins: str, extra: dict[str, str] | None = None, openai_key: str | None = None) -> HubServer:
        nonlocal count
        count += 1
        settings = make_settings(tmp_path / f"hub{count}").with_(
            extra={"hubtest_base_url": fake.base_url, "hubtest_api_key": str(fake.api_key), **(extra or {})}
        )
        eps = [installed("openai"), *(entry_point(p) for p in plugins)]
        server = hub_server_factory(settings, entry_points=eps)
        server.add_provider("openai", base_url=fake.base_url, credential=openai_key or fake.api_key)
        return server

    yield start
    hubtest.reset()
    vault.VAULT.clear()


def sdk(server: HubServer, key: str | None = None, **headers: str) -> openai.OpenAI:
    return openai.OpenAI(
        base_url=f"{server.url}/v1",
        api_key=key or server.create_key(),
        max_retries=0,
        default_headers=headers or None,
    )


def plugin_info(server: HubServer, name: str) -> dict:
    rows = call("GET", f"{server.url}/-/plugins", key=server.admin_key).body
    return next(p for p in rows if p["name"] == name)


def assert_refused_by_plugin(answer, hook: str) -> None:
    """Fail closed: a plain exception in a security hook is a clean 500 JSON error naming the plugin."""
    assert answer.status == 500, answer.text
    assert answer.error["code"] == "plugin_error"
    assert "hubtest_hooks" in answer.error["message"] and hook in answer.error["message"]
    assert "Traceback" not in answer.text and "RuntimeError" not in answer.text


# --- registration ------------------------------------------------------------------------------------


def test_register_providers_adds_a_provider_that_routes_and_is_listed(start_hub, fake_openai_thread):
    server = start_hub("hooks")
    info = plugin_info(server, "hubtest_hooks")
    assert info["registered"]["providers"] == ["hubtest"]
    available = call("GET", f"{server.url}/api/ai-providers/available", key=server.admin_key).body
    assert {"name": "hubtest", "plugin": "hubtest_hooks"}.items() <= next(
        p for p in available if p["name"] == "hubtest"
    ).items()

    server.add_provider(
        "hubtest", base_url=fake_openai_thread.base_url, credential=fake_openai_thread.api_key
    )
    reply = sdk(server).chat.completions.create(
        model="hubtest/gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]
    )
    assert reply.choices[0].message.content == "ECHO: HI"  # hubtest's own normalizer shouts
    assert fake_openai_thread.requests[-1]["headers"]["x-hubtest-provider"] == "hubtest"


def test_register_billing_modes_records_the_mode_under_the_plugin(start_hub):
    server = start_hub("hooks")
    assert plugin_info(server, "hubtest_hooks")["registered"]["billing_modes"] == ["hubtest-flat"]
    assert server.hub.host.billing_modes["hubtest-flat"].display_name == "Hub Test flat rate"
    assert server.hub.host.billing_owner["hubtest-flat"] == "hubtest_hooks"


def test_register_payment_providers_records_the_provider_under_the_plugin(start_hub):
    server = start_hub("hooks")
    assert plugin_info(server, "hubtest_hooks")["registered"]["payment_providers"] == ["hubtest-pay"]
    assert server.hub.host.payment_providers["hubtest-pay"].display_name == "Hub Test payments"
    assert server.hub.host.payment_owner["hubtest-pay"] == "hubtest_hooks"


def test_register_routes_mounts_routes_that_follow_the_plugin_state(start_hub):
    server = start_hub("hooks")
    assert call("GET", f"{server.url}/hubtest/ping").body == {"pong": True, "plugin": "hubtest_hooks"}
    assert plugin_info(server, "hubtest_hooks")["registered"]["routes"] == ["hubtest"]

    toggle = f"{server.url}/api/admin/plugins/hubtest_hooks"
    assert call("PUT", toggle, key=server.admin_key, json_body={"enabled": False}).status == 200
    gone = call("GET", f"{server.url}/hubtest/ping")
    assert gone.status == 404 and gone.error["code"] == "not_found"
    assert call("PUT", toggle, key=server.admin_key, json_body={"enabled": True}).status == 200
    assert call("GET", f"{server.url}/hubtest/ping").status == 200


def test_register_commands_adds_top_level_and_billing_subcommands_and_the_core_keeps_its_names(tmp_path):
    site = tmp_path / "site"
    write_dist_info(site, "hubtest-notes", "0.0.1", {"hubtest_notes": "hubtest_plugins.notes"})
    env = {"PYTHONPATH": os.pathsep.join([str(site), str(PLUGINS_DIR)])}
    data = tmp_path / "data"

    top = ok(run_cli("--help", data_dir=data, env=env))
    assert "hubtest-notes" in top.stdout and "Notes kept in the plugin's own table." in top.stdout
    assert "warning: command 'keys' of plugin 'hubtest_notes' is ignored" in top.stderr

    assert ok(run_cli("hubtest-notes", "add", "first", data_dir=data, env=env)).stdout == "Kept note #1.\n"
    ok(run_cli("hubtest-notes", "add", "second", data_dir=data, env=env))
    listed = ok(run_cli("hubtest-notes", "list", "--json", data_dir=data, env=env))
    assert json.loads(listed.stdout) == [{"id": 1, "text": "first"}, {"id": 2, "text": "second"}]
    assert "hubtest-notes-count" in ok(run_cli("billing", "--help", data_dir=data, env=env)).stdout
    assert ok(run_cli("billing", "hubtest-notes-count", data_dir=data, env=env)).stdout == "2 note(s)\n"

    core_keys = ok(run_cli("keys", "list", "--json", data_dir=data, env=env))  # the core's, not the plugin's
    assert "the plugin's keys" not in core_keys.stdout and json.loads(core_keys.stdout)[0]["role"] == "owner"

    listed_plugins = json.loads(ok(run_cli("plugins", "list", "--json", data_dir=data, env=env)).stdout)
    registered = next(p for p in listed_plugins if p["name"] == "hubtest_notes")["registered"]
    assert registered["commands"] == ["hubtest-notes", "billing hubtest-notes-count", "keys"]


def test_register_commands_refuses_a_name_another_plugin_took_in_the_same_group():
    class Other:
        @hookimpl
        def register_commands(self, register):
            register(click.Command("hubtest-notes"))  # taken by hubtest_notes, which loads first
            register(click.Command("hubtest-notes-count"))  # free at the top level (the other is in billing)

    host = build_plugin_host(Settings(), [entry_point("notes")])
    host.register_builtin("zz_other", Other())
    host.run_registrations()
    other = host.infos["zz_other"]
    assert other.status == "failed"
    assert "command 'hubtest-notes' is registered by both 'hubtest_notes' and 'zz_other'" in (
        other.error or ""
    )
    assert ("", "hubtest-notes-count") not in host.plugin_commands()  # a failed plugin offers no commands
    assert host.infos["hubtest_notes"].status == "enabled"


NOTES_DB = ("hubtest_plugins.notes_db.models", "hubtest_plugins.notes_db.migrations")


def test_register_db_models_migrates_the_plugins_tables_with_the_core_and_serves_them(
    hub_server_factory, tmp_path
):
    from hubtest_plugins.notes_db.models import Note

    settings = make_settings(tmp_path / "hub")
    server = hub_server_factory(settings, entry_points=[entry_point("notes")])
    assert plugin_info(server, "hubtest_notes")["registered"]["db_models"] == ["hubtest_notes"]

    async def keep() -> list[str]:
        await Note.create(text="kept by the hub")
        return [n.text for n in await Note.all()]

    assert server.run(keep) == ["kept by the hub"]  # created by the hub's start (db.upgrade)
    apps = server.hub.host.database_apps()
    assert apps == {
        "hubtest_notes": ("hubtest_plugins.notes_db.models", "hubtest_plugins.notes_db.migrations")
    }
    assert asyncio.run(db.upgrade(settings, apps)) == []  # recorded under the plugin's app label


def test_register_db_models_refuses_the_cores_label_a_taken_label_and_a_missing_module():
    class Reserved:
        @hookimpl
        def register_db_models(self, register):
            register("models", *NOTES_DB)

    class Taken:
        @hookimpl
        def register_db_models(self, register):
            register(
                "hubtest_notes", "hubtest_plugins.notes_db.models", "hubtest_plugins.notes_db.migrations"
            )

    class Missing:
        @hookimpl
        def register_db_models(self, register):
            register(
                "hubtest_missing", "hubtest_plugins.no_such_models", "hubtest_plugins.notes_db.migrations"
            )

    host = build_plugin_host(Settings(), [entry_point("notes")])
    for name, plugin in (("zz_reserved", Reserved()), ("zz_taken", Taken()), ("zz_missing", Missing())):
        host.register_builtin(name, plugin)
    host.run_registrations()
    errors = {name: host.infos[name].error or "" for name in ("zz_reserved", "zz_taken", "zz_missing")}
    assert "cannot use the database app label 'models'" in errors["zz_reserved"]
    assert (
        "database app 'hubtest_notes' is registered by both 'hubtest_notes' and 'zz_taken'"
        in errors["zz_taken"]
    )
    assert "No module named 'hubtest_plugins.no_such_models'" in errors["zz_missing"]
    assert set(host.database_apps()) == {"hubtest_notes"}


# --- auth_from_request -------------------------------------------------------------------------------


def test_auth_from_request_async_plugin_answers_before_key_auth(start_hub):
    server = start_hub("hooks")
    # No valid hub key at all: the plugin's header is enough, because it is asked before the default.
    client = sdk(server, key="not-a-hub-key", **{"x-hubtest-caller": "alice"})
    reply = client.chat.completions.create(
        model="openai/gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]
    )
    assert reply.choices[0].message.content == "Echo: hi"
    row = server.wait_for_calls(1)[0]
    assert (row["user_id"], row["app_did"]) == (9001, "key:hubtest-header")

    # Returning None leaves the request to the default key auth.
    assert (
        sdk(server)
        .chat.completions.create(model="openai/gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
        .choices
    )
    assert chat(server.url, "openai/gpt-4o-mini", key="ahk-wrong-key-0000000000000").status == 401

    denied = chat(server.url, "openai/gpt-4o-mini", headers={"x-hubtest-caller": "deny"})
    assert denied.status == 403
    assert denied.error == {
        "message": "Denied by the hubtest plugin",
        "type": "permission_error",
        "param": None,
        "code": "hubtest_denied",
    }


def test_auth_from_request_plain_exception_fails_closed(start_hub, fake_openai_thread):
    server = start_hub("hooks")
    sent = len(fake_openai_thread.requests)
    # Even with a valid key: a broken auth plugin refuses the request instead of letting it through.
    answer = chat(
        server.url, "openai/gpt-4o-mini", key=server.admin_key, headers={"x-hubtest-caller": "boom"}
    )
    assert_refused_by_plugin(answer, "auth_from_request")
    assert len(fake_openai_thread.requests) == sent
    # The admin API authenticates through the same hook and fails closed the same way.
    admin = call(
        "GET", f"{server.url}/api/admin/users", key=server.admin_key, headers={"x-hubtest-caller": "boom"}
    )
    assert admin.status == 500 and admin.error["code"] == "plugin_error"


# --- select_route ------------------------------------------------------------------------------------


def test_select_route_async_plugin_routes_aliases_and_overrides_the_default(start_hub, fake_openai_thread):
    server = start_hub("hooks")
    client = sdk(server)

    client.chat.completions.create(model="alias/gpt-4.1-nano", messages=[{"role": "user", "content": "a"}])
    sent = fake_openai_thread.requests[-1]
    assert sent["body"]["model"] == "gpt-4.1-nano"
    assert sent["headers"]["x-hubtest-provider"] == "hubtest"

    # openai/pinned would go to the openai provider by default; the plugin is asked first and wins.
    client.chat.completions.create(model="openai/pinned", messages=[{"role": "user", "content": "b"}])
    sent = fake_openai_thread.requests[-1]
    assert sent["body"]["model"] == "gpt-4o-mini"
    assert sent["headers"]["x-hubtest-provider"] == "hubtest"

    # Anything else falls through to the default routing.
    client.chat.completions.create(model="openai/gpt-4o-mini", messages=[{"role": "user", "content": "c"}])
    assert "x-hubtest-provider" not in fake_openai_thread.requests[-1]["headers"]

    rows = server.wait_for_calls(3)
    assert [(r["model"], r["provider"], r["upstream_model"]) for r in rows] == [
        ("alias/gpt-4.1-nano", "hubtest", "gpt-4.1-nano"),
        ("openai/pinned", "hubtest", "gpt-4o-mini"),
        ("openai/gpt-4o-mini", "openai", "gpt-4o-mini"),
    ]


def test_select_route_plain_exception_fails_closed(start_hub, fake_openai_thread):
    server = start_hub("hooks")
    sent = len(fake_openai_thread.requests)
    assert_refused_by_plugin(chat(server.url, "alias/route-boom", key=server.create_key()), "select_route")
    assert len(fake_openai_thread.requests) == sent
    row = server.wait_for_calls(1)[0]
    assert (row["status"], row["http_status"]) == ("error", 500)


# --- prepare_upstream_request ------------------------------------------------------------------------


def test_prepare_upstream_request_async_plugin_modifies_the_upstream_request(start_hub, fake_openai_thread):
    server = start_hub("hooks")
    sdk(server, key=server.create_key(name="carol")).chat.completions.create(
        model="openai/gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]
    )
    headers = fake_openai_thread.requests[-1]["headers"]
    assert headers["x-hubtest-caller"] == "carol"
    assert headers["Authorization"] == f"Bearer {fake_openai_thread.api_key}"  # the default still ran


def test_prepare_upstream_request_plugin_replaces_the_default_credential_injection(start_hub):
    # The stored credential is wrong; the vault plugin signs with the right key instead.
    server = start_hub(
        "vault", openai_key="sk-wrong-stored-key", extra={"vault:openai": "sk-fake-openai-key"}
    )
    assert chat(server.url, "openai/gpt-4o-mini", key=server.admin_key).status == 200

    toggle = f"{server.url}/api/admin/plugins/hubtest_vault"
    assert call("PUT", toggle, key=server.admin_key, json_body={"enabled": False}).status == 200
    without = chat(server.url, "openai/gpt-4o-mini", key=server.admin_key)
    assert without.status == 502 and without.error["code"] == "upstream_auth_failed"


def test_prepare_upstream_request_plain_exception_fails_closed(start_hub, fake_openai_thread):
    server = start_hub("hooks")
    sent = len(fake_openai_thread.requests)
    answer = chat(server.url, "alias/prepare-boom", key=server.create_key())
    assert_refused_by_plugin(answer, "prepare_upstream_request")
    assert len(fake_openai_thread.requests) == sent  # nothing unsigned went out


# --- select_normalizer -------------------------------------------------------------------------------


def test_select_normalizer_async_plugin_overrides_the_providers_normalizer(start_hub):
    server = start_hub("hooks")
    client = sdk(server)
    shouted = client.chat.completions.create(
        model="alias/gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]
    )
    assert shouted.choices[0].message.content == "ECHO: HI"
    assert shouted.usage.completion_tokens > 0  # usage still comes from the provider's numbers

    # Streams and other providers: the plugin returns None and the default normalizer is used.
    stream = client.chat.completions.create(
        model="alias/gpt-4o-mini", messages=[{"role": "user", "content": "hi"}], stream=True
    )
    assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices) == "Echo: hi"
    plain = client.chat.completions.create(
        model="openai/gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]
    )
    assert plain.choices[0].message.content == "Echo: hi"


def test_select_normalizer_plain_exception_fails_closed(start_hub, fake_openai_thread):
    server = start_hub("hooks")
    sent = len(fake_openai_thread.requests)
    assert_refused_by_plugin(
        chat(server.url, "alias/normalizer-boom", key=server.create_key()), "select_normalizer"
    )
    assert len(fake_openai_thread.requests) == sent


# --- observers ---------------------------------------------------------------------------------------


def test_on_call_finished_async_observer_sees_every_call(start_hub):
    server = start_hub("hooks")
    key = server.create_key()
    assert chat(server.url, "openai/gpt-4o-mini", key=key).status == 200
    assert chat(server.url, "openai/fail-500", key=key).status == 502
    server.calls()  # drains the pending observer tasks
    records = hubtest.events("call")
    assert [(r.model, r.status, r.http_status) for r in records] == [
        ("openai/gpt-4o-mini", "success", 200),
        ("openai/fail-500", "error", 502),
    ]
    assert records[0].usage.input_tokens > 0 and records[0].usage.output_tokens > 0
    # The default observer (usage log) ran too.
    assert [r["status"] for r in server.calls()] == ["success", "error"]


def test_on_call_finished_exception_fails_open_and_other_observers_still_run(start_hub):
    server = start_hub("noisy", "hooks")
    reply = sdk(server).chat.completions.create(
        model="openai/gpt-4o-mini", messages=[{"role": "user", "content": "still works"}]
    )
    assert reply.choices[0].message.content == "Echo: still works"
    rows = server.wait_for_calls(1)
    assert rows[0]["status"] == "success"
    assert [r.request_id for r in hubtest.events("call")] == [rows[0]["request_id"]]


def test_on_startup_runs_before_serving_and_a_failing_one_does_not_stop_the_hub(start_hub):
    server = start_hub("noisy", "hooks")
    assert hubtest.events("startup") == [server.settings.data_dir]
    assert hubtest.CONFIG["base_url"] == server.settings.extra["hubtest_base_url"]  # configured from settings
    assert call("GET", f"{server.url}/-/health").status == 200


def test_on_shutdown_runs_when_the_hub_stops_even_if_another_one_fails(start_hub):
    server = start_hub("noisy", "hooks")
    assert hubtest.events("shutdown") == []
    server.stop()
    assert hubtest.events("shutdown") == [server.settings.data_dir]


# --- what every hook is offered: the hub and the plugin's own settings, in every phase ----------------


async def _aborted_stream(url: str, key: str) -> None:
    """Start a stream and hang up after its first event, as a client that leaves does."""
    import aiohttp

    async with aiohttp.ClientSession() as session:
        resp = await session.post(
            f"{url}/v1/chat/completions",
            json={
                "model": "openai/gpt-4o-mini",
                "messages": [{"role": "user", "content": "a " * 200}],
                "stream": True,
            },
            headers={"Authorization": f"Bearer {key}"},
        )
        await resp.content.readline()
        resp.close()


def test_every_phase_gets_the_hub_and_the_plugins_own_settings(start_hub, fake_openai_thread):
    witness.SEEN.clear()
    server = start_hub("witness")
    hub = server.hub
    key = server.create_key()
    # an admin stores a setting: the next calls see it, without a restart
    answer = call(
        "PUT",
        f"{server.url}/api/admin/plugins/hubtest_witness/config",
        json_body={"label": "stored"},
        key=server.admin_key,
    )
    assert answer.status == 200, answer.body
    assert chat(server.url, "openai/gpt-4o-mini", key=key).status == 200  # a JSON call
    assert chat(server.url, "openai/gpt-4o-mini", key=key, stream=True).status == 200  # a streamed call
    fake_openai_thread.chunk_delay = 0.05
    import asyncio

    asyncio.run(_aborted_stream(server.url, key))  # an aborted call
    server.wait_for_calls(3)
    server.stop()

    hooks = [h for h, *_ in witness.SEEN]
    assert hooks[:2] == ["register_routes", "on_startup"] and hooks[-1] == "on_shutdown"
    finished = [extra for h, _, _, extra in witness.SEEN if h == "on_call_finished"]
    assert sorted(finished) == ["aborted", "success", "success"]
    assert all(seen_hub is hub for _, seen_hub, _, _ in witness.SEEN)  # the hub calling, in every phase
    assert witness.SEEN[0][2] == {"label": "witness-default"}  # at startup: the schema's default
    after = [cfg for h, _, cfg, _ in witness.SEEN if h in ("select_route", "on_call_finished")]
    assert after and all(cfg == {"label": "stored"} for cfg in after)  # live: the stored value
    assert hub.plugin_config("hubtest_witness") == {"label": "stored"}


def test_settings_extra_comes_from_the_environment(monkeypatch, tmp_path):
    from hub_core.config import Settings

    monkeypatch.setenv("AIGNE_HUB_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("AIGNE_HUB_EXTRA_VAULT_URL", "https://vault.example")
    assert Settings.from_env().extra == {"vault_url": "https://vault.example"}


# --- the guards: every hook tested, every hook documented ---------------------------------------------


def _spec_functions() -> dict[str, Callable[..., object]]:
    return {
        name: fn
        for name, fn in inspect.getmembers(hookspecs, inspect.isfunction)
        if hasattr(fn, "aigne_hub_spec")
    }


def test_spec_names_lists_exactly_the_hookspecs():
    assert set(hookspecs.SPEC_NAMES) == set(_spec_functions())
    assert len(hookspecs.SPEC_NAMES) == len(set(hookspecs.SPEC_NAMES))


def test_every_hook_has_a_test():
    tree = ast.parse(Path(__file__).read_text())
    tests = [n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name.startswith("test_")]
    untested = [hook for hook in hookspecs.SPEC_NAMES if not any(t.startswith(f"test_{hook}") for t in tests)]
    assert untested == [], f"hooks without a test_<hook>... function in {Path(__file__).name}: {untested}"


@pytest.mark.parametrize("name", hookspecs.SPEC_NAMES)
def test_every_hook_is_documented(name):
    fn = _spec_functions()[name]
    doc = inspect.getdoc(fn) or ""
    assert doc, f"hookspec {name} has no docstring"
    assert name in hookspecs.SEMANTICS, f"hookspec {name} is declared without its semantics"
    for param in inspect.signature(fn).parameters:
        if param not in hookspecs.COMMON_PARAMETERS:
            assert f":param {param}:" in doc, f"hookspec {name}: parameter {param} is not documented"
    for param in hookspecs.COMMON_PARAMETERS:
        assert param in inspect.signature(fn).parameters, f"hookspec {name} does not offer {param}"

    guide = (ROOT / "docs" / "plugins.md").read_text()
    section = re.search(rf"^### `{name}`\n(.*?)(?=^#{{2,3}} |\Z)", guide, re.M | re.S)
    assert section, f"docs/plugins.md has no '### `{name}`' section"


def test_the_hook_table_in_the_docs_is_the_one_the_specs_make():
    guide = (ROOT / "docs" / "plugins.md").read_text()
    table = re.search(r"<!-- hook-table:start -->\n(.*?)<!-- hook-table:end -->", guide, re.S)
    assert table, "docs/plugins.md has no generated hook table"
    assert table.group(1) == hookspecs.reference_table(), (
        "docs/plugins.md's hook table differs from the specs: paste hub_core.hookspecs.reference_table()"
    )


def test_the_core_calls_hooks_only_through_the_facade():
    """Every call of a hook by name outside the plugin host goes through `hub_core.infra.hooks.Hooks`."""
    offenders = []
    for path in (ROOT / "hub_core").rglob("*.py"):
        if path.name in ("plugin_host.py", "hooks.py"):
            continue
        text = path.read_text()
        if re.search(r"\.host\.(first|each|observe|observe_now|observe_pending)\(", text):
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []
