"""Holds under concurrency: many parallel calls against a balance that covers only some of them.

Exactly the affordable calls succeed, the others get 402, the balance ends at the exact value and is never
negative; on SQLite, on PostgreSQL, with two hubs sharing one PostgreSQL in one process, and with two
``aigne-hub serve`` processes sharing one PostgreSQL (configured with the CLI, as an operator would).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path

import pytest
from hub_billing_credits.testing import account, grant, ledger

from hub_core.testing.billing import call, new_user, set_rate, use_mode
from hub_core.testing.server import free_port

SECRET = "a1" * 32  # both hubs must decrypt the provider credential the other stored
CALLS = 20


def chat(url: str, key: str, model: str = "openai/gpt-4o-mini", max_tokens: int = 2) -> int:
    body = {"model": model, "max_tokens": max_tokens, "messages": [{"role": "user", "content": "hi"}]}
    return call("POST", f"{url}/v1/chat/completions", key, body).status


def burst(urls: list[str], key: str, **kw) -> list[int]:
    """CALLS chat calls at once, spread over the hubs; their HTTP statuses."""
    with ThreadPoolExecutor(CALLS) as pool:
        return list(pool.map(lambda i: chat(urls[i % len(urls)], key, **kw), range(CALLS)))


def configure(server, model: str = "gpt-4o-mini") -> tuple[int, str]:
    """Credits mode, 1 credit per output token and nothing per input token: a call answering "Echo: hi"
    costs exactly 2 credits, and with max_tokens=2 its hold is exactly 2 credits too."""
    use_mode(server, "credits")
    set_rate(server, "openai", model, 0, 1)
    return new_user(server, "burst")


def assert_exact(server, user_id: int, statuses: list[int], start: int, cost: int) -> None:
    affordable = start // cost
    assert statuses.count(200) == affordable, statuses
    assert statuses.count(402) == CALLS - affordable, statuses
    acct = account(server, user_id)
    assert acct["balance"] == start - affordable * cost
    assert acct["balance"] == acct["ledger"] == acct["grants"] >= 0
    assert acct["held"] == acct["holds"] == 0
    assert all(e["balance_after"] >= 0 for e in ledger(server, user_id))


@pytest.fixture(params=["sqlite", "postgres"])
def any_db_hub(request, hub_server_factory, hub_settings, fake_openai_thread):
    settings = hub_settings
    if request.param == "postgres":
        settings = hub_settings.with_(database_url=request.getfixturevalue("pg_url"))
    server = hub_server_factory(settings)
    server.add_provider("openai", base_url=fake_openai_thread.base_url, credential=fake_openai_thread.api_key)
    return server


def test_parallel_calls_never_spend_more_than_the_balance(any_db_hub):
    user_id, key = configure(any_db_hub)
    grant(any_db_hub, user_id, 11)
    statuses = burst([any_db_hub.url], key)
    assert_exact(any_db_hub, user_id, statuses, start=11, cost=2)


def test_holds_for_calls_in_flight_count_against_the_balance(any_db_hub):
    """Each call holds 10 credits (max_tokens=10) but costs 2; all are in flight together (a 2 s upstream),
    so only the calls whose holds fit are admitted, and each settles at its real cost."""
    user_id, key = configure(any_db_hub, model="slow-2")
    grant(any_db_hub, user_id, 35)
    statuses = burst([any_db_hub.url], key, model="openai/slow-2", max_tokens=10)
    assert statuses.count(200) == 3 and statuses.count(402) == CALLS - 3, statuses
    acct = account(any_db_hub, user_id)
    assert acct["balance"] == 35 - 3 * 2 == acct["ledger"] == acct["grants"]
    assert acct["held"] == 0


def test_two_hubs_sharing_one_postgres_never_overspend(
    hub_server_factory, hub_settings, pg_url, fake_openai_thread
):
    first = hub_server_factory(hub_settings.with_(database_url=pg_url, secret_key=SECRET))
    first.add_provider("openai", base_url=fake_openai_thread.base_url, credential=fake_openai_thread.api_key)
    user_id, key = configure(first)
    grant(first, user_id, 21)  # half the calls are affordable: both hubs serve some, whatever the timing
    second_dir = hub_settings.data_dir.parent / "second"
    second = hub_server_factory(
        hub_settings.with_(database_url=pg_url, secret_key=SECRET, data_dir=second_dir)
    )
    for server in (first, second):  # warm: key cache and billing configuration, so neither starts late
        assert call("GET", f"{server.url}/v1/models", key, None).status == 200
        server.run(server.hub.gateway.billing.refresh)
    statuses = burst([first.url, second.url], key)
    second.run(second.hub.gateway.drain)  # settlements run after the response; wait for both hubs' to land
    assert_exact(first, user_id, statuses, start=21, cost=2)
    served = {row["request_id"] for row in second.calls(status="success")}
    assert served, "the second hub served none of the calls"


# --- two processes ------------------------------------------------------------------------------------------

AIGNE_HUB = Path(sys.executable).parent / "aigne-hub"
PYCACHE = Path(tempfile.gettempdir()) / f"aigne-hub-billing-pyc-{os.getuid()}"


def cli(env: dict[str, str], *args: str) -> str:
    result = subprocess.run([str(AIGNE_HUB), *args], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, f"{args}: {result.stderr}"
    return result.stdout


def serve(env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [str(AIGNE_HUB), "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/-/health", timeout=1):
                return proc
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError(proc.stderr.read().decode() if proc.stderr else "hub exited") from None
            time.sleep(0.1)
    proc.kill()
    raise TimeoutError("hub did not start")


def test_two_hub_processes_on_one_postgres_never_overspend(tmp_path, pg_url, fake_openai_thread):
    base = {k: v for k, v in os.environ.items() if not k.startswith(("AIGNE_HUB_", "BLOCKLET_"))}
    base.pop("PYTHONDONTWRITEBYTECODE", None)  # compile once into a private cache, not in every process
    base.update(
        PYTHONPYCACHEPREFIX=str(PYCACHE),
        AIGNE_HUB_DATABASE_URL=pg_url,
        AIGNE_HUB_SECRET_KEY=SECRET,
        AIGNE_HUB_LOG_LEVEL="warning",
        AIGNE_HUB_STATE_POLL_INTERVAL="0.2",
    )
    envs = [{**base, "AIGNE_HUB_DATA_DIR": str(tmp_path / f"d{i}")} for i in (1, 2)]
    env = envs[0]
    cli(env, "providers", "add", "openai", "--base-url", fake_openai_thread.base_url)
    cli(env, "credentials", "add", "openai", "--value", str(fake_openai_thread.api_key))
    cli(env, "billing", "mode", "credits")
    cli(env, "billing", "rates", "set", "openai", "gpt-4o-mini", "--input", "0", "--output", "1")
    key = cli(env, "keys", "create", "--name", "burst").strip().splitlines()[-1]
    user = next(
        k for k in __import__("json").loads(cli(env, "keys", "list", "--json")) if k["name"] == "burst"
    )
    cli(env, "billing", "grant", str(user["userId"]), "11", "--reason", "test")
    ports = [free_port(), free_port()]
    procs = [serve(e, p) for e, p in zip(envs, ports, strict=True)]
    try:
        statuses = burst([f"http://127.0.0.1:{p}" for p in ports], key)
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=20)
    assert statuses.count(200) == 5 and statuses.count(402) == CALLS - 5, statuses
    balance = __import__("json").loads(cli(env, "billing", "balance", str(user["userId"]), "--json"))
    assert Decimal(balance["balance"]) == 1 and Decimal(balance["pendingCredit"]) == 0
    assert '"ok": true' in cli(env, "billing", "verify", str(user["userId"]))
