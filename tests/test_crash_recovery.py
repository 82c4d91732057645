"""kill -9 of a served hub under billed load, a restart, and a reconciliation (docs/billing.md, "Holds and
settlement"; docs/security.md).

Before: the charge was written before the usage row was queued, and rows are written every 0.5 s, so a crash
left calls charged but not logged (496 charges, 492 usage rows in one run), and the holds of calls in flight
stayed reserved for the hold time-out (6 hours). Now the row is written before the charge, and the restarted
hub closes the holds its crashed run left open at once: charged from the usage row when there is one,
released free when there is none.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import asyncpg
import pytest

from hub_core.testing.billing import call
from hub_core.testing.server import free_port

AIGNE_HUB = Path(sys.executable).parent / "aigne-hub"
PYCACHE = Path(tempfile.gettempdir()) / f"aigne-hub-billing-pyc-{os.getuid()}"

CLIENTS = 12
UNIT = 10**10  # credit units per credit


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
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if call("GET", f"http://127.0.0.1:{port}/-/ready", None, None).status == 200:
                return proc
        except OSError:
            pass
        if proc.poll() is not None:
            raise RuntimeError(proc.stderr.read().decode() if proc.stderr else "hub exited")
        time.sleep(0.1)
    proc.kill()
    raise TimeoutError("hub did not start")


class Load:
    """Client threads calling until told to stop; what each saw, by request id."""

    def __init__(self, url: str, key: str) -> None:
        self.url, self.key = url, key
        self.seen: dict[str, int] = {}
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._run, args=(i,), daemon=True) for i in range(CLIENTS)]

    def _run(self, i: int) -> None:
        n = 0
        while not self.stop.is_set():
            n += 1
            request_id = f"crash-{i}-{n}"
            model = "openai/slow-1" if n % 4 == 0 else "openai/gpt-4o-mini"  # some calls are in flight
            body = {"model": model, "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]}
            headers = {"x-request-id": request_id}
            try:
                answer = call("POST", f"{self.url}/v1/chat/completions", self.key, body, headers=headers)
            except OSError:
                continue  # the hub is gone
            self.seen[request_id] = answer.status

    def successes(self) -> set[str]:
        return {rid for rid, status in self.seen.items() if status == 200}


async def books(url: str) -> dict[str, object]:
    conn = await asyncpg.connect(url)
    try:
        charges = await conn.fetch(
            "SELECT call_id, request_id, amount FROM credit_ledger WHERE kind = 'charge'"
        )
        rows = await conn.fetch("SELECT request_id, status, credits, metadata FROM model_calls")
        holds = await conn.fetchval("SELECT count(*) FROM credit_holds")
        account = await conn.fetchrow("SELECT balance, held, credited, debited FROM credit_accounts LIMIT 1")
    finally:
        await conn.close()
    billed = {}
    for row in rows:
        meta = row["metadata"] if isinstance(row["metadata"], dict) else json.loads(row["metadata"] or "{}")
        if meta.get("billing_call_id"):
            billed[meta["billing_call_id"]] = row
    return {"charges": charges, "rows": rows, "billed": billed, "holds": holds, "account": account}


@pytest.mark.timeout(400)  # eight CLI runs and two hub starts, each a new Python process
def test_kill_9_under_load_never_leaves_an_unlogged_charge_and_the_restart_closes_open_holds(
    tmp_path, pg_url, fake_openai_thread
):
    base = {k: v for k, v in os.environ.items() if not k.startswith(("AIGNE_HUB_", "BLOCKLET_"))}
    base.pop("PYTHONDONTWRITEBYTECODE", None)
    env = {
        **base,
        "PYTHONPYCACHEPREFIX": str(PYCACHE),
        "AIGNE_HUB_DATABASE_URL": pg_url,
        "AIGNE_HUB_DATA_DIR": str(tmp_path / "data"),
        "AIGNE_HUB_LOG_FORMAT": "json",
        "AIGNE_HUB_LOG_LEVEL": "warning",
    }
    cli(env, "providers", "add", "openai", "--base-url", fake_openai_thread.base_url)
    cli(env, "credentials", "add", "openai", "--value", str(fake_openai_thread.api_key))
    cli(env, "billing", "mode", "credits")
    for model in ("gpt-4o-mini", "slow-1"):
        cli(env, "billing", "rates", "set", "openai", model, "--input", "0", "--output", "1")
    key = cli(env, "keys", "create", "--name", "load").strip().splitlines()[-1]
    user = next(k for k in json.loads(cli(env, "keys", "list", "--json")) if k["name"] == "load")
    cli(env, "billing", "grant", str(user["userId"]), "100000", "--reason", "test")

    port = free_port()
    hub = serve(env, port)
    load = Load(f"http://127.0.0.1:{port}", key)
    for thread in load.threads:
        thread.start()
    deadline = time.monotonic() + 60
    while len(load.successes()) < 150 and time.monotonic() < deadline:
        time.sleep(0.05)
    os.kill(hub.pid, signal.SIGKILL)  # mid-load: calls in flight, rows queued, charges pending
    hub.wait(10)
    load.stop.set()
    for thread in load.threads:
        thread.join(30)
    crashed = asyncio.run(books(pg_url))
    stderr = hub.stderr.read().decode() if hub.stderr else ""

    # at the crash: every charge already has its usage row (the row is written first)
    assert {c["call_id"] for c in crashed["charges"]} <= set(crashed["billed"])
    assert crashed["holds"] > 0  # calls were in flight

    t0 = time.monotonic()
    restarted = serve(env, port)  # the same data dir: the same slot, whose holds it closes on start
    restart_s = time.monotonic() - t0
    try:
        after = asyncio.run(books(pg_url))
    finally:
        restarted.send_signal(signal.SIGTERM)
        restarted.wait(30)

    successes = load.successes()
    charged = {c["call_id"] for c in after["charges"]}
    logged_requests = {r["request_id"] for r in after["rows"] if r["status"] == "success"}
    # no open hold, no charge without its row, no billed row without its charge
    assert after["holds"] == 0
    assert charged <= set(after["billed"])
    assert {cid for cid, row in after["billed"].items() if row["credits"]} <= charged
    # the account adds up: nothing held, the ledger's charges are what left the balance
    account = after["account"]
    assert account["held"] == 0
    assert account["balance"] == account["credited"] - account["debited"]
    assert account["debited"] == -sum(c["amount"] for c in after["charges"])
    # what the clients saw: every logged success was seen as one; a success lost with the crash (its row
    # still queued in memory) was neither logged nor charged
    assert logged_requests <= successes
    charged_requests = {c["request_id"] for c in after["charges"]}
    assert charged_requests <= successes
    print(
        f"client successes {len(successes)}, usage rows {len(logged_requests)}, charges {len(charged)}, "
        f"restart took {restart_s:.1f} s, holds open at the crash {crashed['holds']}, "
        f"open after the restart {after['holds']}"
    )
    # every line the crashed hub wrote is a JSON line (tracebacks included)
    assert all(line.startswith("{") for line in stderr.splitlines() if line.strip()), stderr[:2000]


def test_each_live_process_holds_its_own_slot_and_a_dead_ones_slot_is_taken_again(tmp_path):
    """The slot is what lets a restart close only a dead process's holds: two live hubs on one data dir
    (`serve --workers`) never share one; a slot whose holder is gone (here: released, as the kernel does on
    kill -9) is taken again, with the same tag, by the next process."""
    from hub_core.runtime.instance import InstanceSlot

    first, second = InstanceSlot(tmp_path), InstanceSlot(tmp_path)
    tags = first.acquire(), second.acquire()
    assert tags[0] != tags[1] and tags[0][:6] == tags[1][:6] and len(tags[0]) == 8
    first.release()
    assert InstanceSlot(tmp_path).acquire() == tags[0]
    assert oct((tmp_path / "instance-id").stat().st_mode & 0o777) == "0o600"
