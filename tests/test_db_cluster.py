"""A real PostgreSQL server frozen and stopped under load (docs/security.md, "When the database is down").

The test starts a throwaway cluster of its own (initdb in a temporary directory, a free loopback port) and
does to it what happens to production databases: it freezes the server (SIGSTOP of the postmaster and every
backend, as in a VM paused by its host or a server stuck in I/O: connections stay open, the kernel still
accepts new ones, nothing answers), and it stops it (`pg_ctl stop -m immediate`, a crash with recovery at
the next start, or `-m fast`, a clean restart) and starts it again on the same port. Two hubs share the
cluster, one without billing and one in the credits mode, with clients calling both all along.

`tests/test_db_hang.py` freezes a TCP proxy instead (a network partition: the server is well, the path to it
is not) and `tests/test_db_outage.py` closes one database to connections on the shared server (a failover
that refuses): three ways a database goes away, each with its own behaviour at the socket, so all three stay.

What must hold in each: every 503 comes within the query timeout (AIGNE_HUB_DB_TIMEOUT); a known key keeps
working from memory; `/-/ready` is 503 meanwhile and 200 after; the hub recovers by itself; every call a
client saw succeed has exactly one usage row and, in the credits mode, exactly one charge, read from the
database after the recovery; no hold stays open and the credits account adds up.
"""

from __future__ import annotations

import os
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent / "plugins"))
from hub_billing_credits.testing import grant
from hubtest_plugins.http import call
from hubtest_plugins.pg import Cluster, find_bindir

from hub_core.testing.billing import new_user, set_rate, settled, use_mode
from hub_core.testing.server import HubServer

DB_TIMEOUT = 1.0  # the hubs' query timeout in this test
MARGIN = 0.5  # scheduling on a loaded 2-core machine
# what an answer may take while the database is frozen, from its first wait for the database: the timeout
# once, whatever it waits for (a pooled connection, its query, the release of its connection) and however
# many times it asks (a billed call refreshes its stale key answer, then takes its hold). Before the circuit
# breaker (hub_core.db.postgres) that was twice the timeout, and four times for a billed call.
LIMIT = DB_TIMEOUT + MARGIN
# once the database is back (SIGCONT, or `postgres` accepting again): readiness, a new key, a billed call
RECOVERY = 1.0
HANG = 60.0  # far above anything allowed: only a hub that hangs with its database reaches it
OUTAGE = 3.0  # seconds the database stays frozen or stopped (at least)
MODELS = ("openai/gpt-4o-mini", "openai/slow-0.4")  # the slow one: calls in flight when the fault hits


def _services_required() -> bool:
    return os.environ.get("AIGNE_HUB_REQUIRE_SERVICES") == "1" or os.environ.get("CI") == "true"


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    """One cluster for the module (initdb takes about a second); each test gets its own databases."""
    bindir = find_bindir()
    if bindir is None:
        if _services_required():
            pytest.fail("the PostgreSQL server programs (initdb, pg_ctl, postgres) are required here")
        pytest.skip("no PostgreSQL server programs (initdb, pg_ctl, postgres) on this machine")
    cluster = Cluster(bindir)
    try:
        yield cluster.start()
    finally:
        cluster.close()


@pytest.fixture
def pg(cluster: Cluster, hub_server_factory: Callable[..., HubServer]) -> Iterator[Cluster]:
    """The cluster, running and thawed again after the test, before its hubs stop (this fixture depends on
    the hubs' factory, so it is torn down first)."""
    yield cluster
    cluster.thaw()
    if cluster.proc is None or cluster.proc.poll() is not None:
        cluster.start()


# --- the hubs and their clients ----------------------------------------------------------------------------


@dataclass
class Hubs:
    free: HubServer  # no billing: known keys keep working while the database is away
    credits: HubServer  # the credits mode: no hold, no call
    free_db: str
    credits_db: str
    known: str  # a key the free hub has used
    unknown: str  # a key the free hub has never seen
    payer: str  # a key with credits on the credits hub


def start_hubs(
    pg: Cluster, factory: Callable[..., HubServer], hub_settings: Any, fake: Any, tmp_path: Path
) -> Hubs:
    names = [f"hub_{uuid.uuid4().hex[:10]}" for _ in range(2)]
    servers = []
    for name, data in zip(names, ("free", "credits"), strict=True):
        settings = hub_settings.with_(
            database_url=pg.create_database(name),
            data_dir=tmp_path / data,
            db_timeout=DB_TIMEOUT,
            auth_cache_ttl=0.3,  # cached key answers go stale during the outage
        )
        server = factory(settings)
        server.add_provider("openai", base_url=fake.base_url, credential=fake.api_key)
        servers.append(server)
    free, credits = servers
    use_mode(credits, "credits")  # the default hold time-out (hours): no sweeper settles within the test
    for model in MODELS:
        set_rate(credits, "openai", model.split("/", 1)[1], "0.001", "0.002")
    user_id, payer = new_user(credits, "payer")
    grant(credits, user_id, 1000)
    hubs = Hubs(
        free, credits, names[0], names[1], free.create_key("known"), free.create_key("unknown"), payer
    )
    for server, key in ((free, hubs.known), (credits, payer)):
        answer = chat(server, key, "warm-up")
        assert answer.status == 200, answer.text
    return hubs


def chat(server: HubServer, key: str, request_id: str, model: str = MODELS[0]) -> Any:
    body = {"model": model, "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]}
    return call(
        "POST",
        f"{server.url}/v1/chat/completions",
        key=key,
        json_body=body,
        headers={"x-request-id": request_id},
        timeout=HANG,
    )


@dataclass
class Seen:
    status: int
    code: str | None
    started: float
    seconds: float


@dataclass
class Load:
    """Clients calling one hub with one key until stopped (bounded by `HANG` per call): what each saw."""

    server: HubServer
    key: str
    name: str
    clients: int = 2
    seen: dict[str, Seen] = field(default_factory=dict)
    stop: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self.threads = [
            threading.Thread(target=self._run, args=(i,), daemon=True) for i in range(self.clients)
        ]
        for thread in self.threads:
            thread.start()

    def _run(self, client: int) -> None:
        n = 0
        while not self.stop.is_set():
            n += 1
            request_id = f"{self.name}-{client}-{n}"
            started = time.monotonic()
            try:
                answer = chat(self.server, self.key, request_id, MODELS[n % 2])
            except OSError as exc:  # no answer at all (a reset, a time-out): status 0, which no check allows
                self.seen[request_id] = Seen(0, type(exc).__name__, started, time.monotonic() - started)
                continue
            code = answer.body.get("error", {}).get("code") if isinstance(answer.body, dict) else None
            self.seen[request_id] = Seen(answer.status, code, started, time.monotonic() - started)
            time.sleep(0.02)

    def finish(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(HANG + 5)

    def ok(self) -> set[str]:
        return {rid for rid, s in self.seen.items() if s.status == 200}

    def during(self, start: float, end: float) -> list[Seen]:
        """The calls that started while the database was away."""
        return [s for s in self.seen.values() if start <= s.started < end]


def eventually(check: Callable[[], bool], since: float | None = None, timeout: float = 20.0) -> float:
    """Seconds from `since` (default: now) until `check()` holds, polling every 50 ms; fails after
    `timeout`."""
    t0 = time.monotonic()
    while not check():
        assert time.monotonic() - t0 < timeout, "the hub did not recover"
        time.sleep(0.05)
    return time.monotonic() - (t0 if since is None else since)


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    t0 = time.monotonic()
    result = fn()
    return result, time.monotonic() - t0


# --- one outage, whatever its kind -------------------------------------------------------------------------


def outage(hubs: Hubs, take_away: Callable[[], None], bring_back: Callable[[], None]) -> dict[str, Any]:
    """Clients on both hubs; the database taken away for `OUTAGE` seconds (at least) and brought back; what
    the hubs answered meanwhile and how long they took to recover. Asserts what must hold meanwhile."""
    free, credits = hubs.free, hubs.credits
    free_load, credits_load = Load(free, hubs.known, "free"), Load(credits, hubs.payer, "credits")
    figures: dict[str, Any] = {}
    try:
        time.sleep(0.6)  # both under load, with slow calls in flight, and every cached key answer stale
        t_down = time.monotonic()
        take_away()
        try:
            # a key the free hub has never seen: the documented 503
            answer, figures["unknown_key_503_s"] = timed(lambda: chat(free, hubs.unknown, "probe-unknown"))
            assert answer.status == 503 and answer.error["code"] == "database_unavailable", answer.text
            assert answer.headers["retry-after"]
            ready, figures["ready_503_s"] = timed(lambda: call("GET", f"{free.url}/-/ready", timeout=HANG))
            assert ready.status == 503 and ready.body["status"] == "unavailable"
            health, figures["health_s"] = timed(lambda: call("GET", f"{free.url}/-/health", timeout=HANG))
            assert health.status == 200 and health.body["database"] == "unavailable"
            # a billed call: no hold can be taken, so it does not go out
            billed, figures["credits_503_s"] = timed(lambda: chat(credits, hubs.payer, "probe-credits"))
            assert billed.status == 503 and billed.error["code"] == "billing_unavailable", billed.text
            time.sleep(max(0.0, OUTAGE - (time.monotonic() - t_down)))
        finally:
            t_up = time.monotonic()
            bring_back()
        figures["restore_s"] = time.monotonic() - t_up  # SIGCONT is instant; a start takes a moment
        t_back = time.monotonic()
        figures["ready_again_s"] = eventually(
            lambda: call("GET", f"{free.url}/-/ready", timeout=HANG).status == 200, t_back
        )
        figures["new_key_again_s"] = eventually(
            lambda: chat(free, hubs.unknown, f"probe-back-{time.monotonic()}").status == 200, t_back
        )
        figures["credits_again_s"] = eventually(
            lambda: chat(credits, hubs.payer, f"probe-back-{time.monotonic()}").status == 200, t_back
        )
        time.sleep(0.3)  # some calls after the recovery too
    finally:
        free_load.finish()
        credits_load.finish()

    # the free hub: a known key never failed, and while the database was away no call waited longer than a
    # refresh of its stale key answer may take; most came straight from memory
    free_during = free_load.during(t_down, t_up)
    assert free_during, "no call while the database was away"
    assert {s.status for s in free_load.seen.values()} == {200}, free_load.seen
    figures["known_key_calls_during"] = len(free_during)
    figures["known_key_max_s"] = max(s.seconds for s in free_during)
    figures["known_key_median_s"] = sorted(s.seconds for s in free_during)[len(free_during) // 2]
    assert figures["known_key_max_s"] < LIMIT + 0.4  # 0.4: the slow model's own time
    # the credits hub: 200 or the documented 503, and every answer within the limit
    refused = [s.seconds for s in credits_load.seen.values() if s.status != 200]
    assert {(s.status, s.code) for s in credits_load.seen.values() if s.status != 200} <= {
        (503, "billing_unavailable")
    }
    figures["credits_503"] = len(refused) + 1
    figures["credits_503_max_s"] = max([*refused, figures["credits_503_s"]])
    assert figures["credits_503_max_s"] < LIMIT
    assert max(s.seconds for s in credits_load.during(t_down, t_up)) < LIMIT + 0.4
    assert figures["unknown_key_503_s"] < LIMIT
    assert figures["ready_503_s"] < LIMIT and figures["health_s"] < LIMIT
    # and it comes back promptly: each step measured from the server's return (they run one after another)
    assert figures["ready_again_s"] < RECOVERY, figures
    assert figures["new_key_again_s"] < 2 * RECOVERY and figures["credits_again_s"] < 2 * RECOVERY, figures
    figures["free_load"], figures["credits_load"] = free_load, credits_load
    return figures


def check_books(pg: Cluster, hubs: Hubs, figures: dict[str, Any]) -> None:
    """After the recovery, read straight from the database: one usage row per success, no row twice, and in
    the credits mode one charge per success, no open hold, an account that adds up."""
    free_ok: set[str] = figures["free_load"].ok()
    credits_ok: set[str] = figures["credits_load"].ok()
    for server in (hubs.free, hubs.credits):
        settled(server)  # every finished call written and settled (settlement retries on its own)

    def rows(db: str) -> list[str]:
        return [r["request_id"] for r in pg.fetch("SELECT request_id FROM model_calls", db)]

    for db, ok in ((hubs.free_db, free_ok), (hubs.credits_db, credits_ok)):
        logged = rows(db)
        assert len(logged) == len(set(logged)), "a usage row written twice"
        assert ok <= set(logged), f"successes without a usage row: {sorted(ok - set(logged))}"

    def holds() -> int:
        return int(pg.fetch("SELECT count(*) AS n FROM credit_holds", hubs.credits_db)[0]["n"])

    figures["holds_open"] = holds()  # deferred settlements still under way
    figures["holds_closed_s"] = eventually(lambda: holds() == 0, timeout=30)
    charges = pg.fetch("SELECT request_id, amount FROM credit_ledger WHERE kind = 'charge'", hubs.credits_db)
    charged = [c["request_id"] for c in charges]
    assert len(charged) == len(set(charged)), "a call charged twice"
    assert credits_ok <= set(charged), f"successes not charged: {sorted(credits_ok - set(charged))}"
    # and nothing charged that a client did not see succeed (besides the warm-up and the probes)
    assert {c for c in charged if c.startswith("credits-")} <= credits_ok
    account = pg.fetch("SELECT balance, held, credited, debited FROM credit_accounts", hubs.credits_db)[0]
    assert account["held"] == 0
    assert account["balance"] == account["credited"] - account["debited"]
    assert account["debited"] == -sum(c["amount"] for c in charges)
    figures["rows_checked"] = len(free_ok) + len(credits_ok)
    figures["rows_lost"] = len(free_ok - set(rows(hubs.free_db))) + len(
        credits_ok - set(rows(hubs.credits_db))
    )
    figures["charges_lost"] = len(credits_ok - set(charged))
    # every call was settled by its hub (deferred until the database answered, if need be), none left to the
    # sweeper's time-out or charged by it from the usage log
    assert not pg.fetch(
        "SELECT 1 FROM credit_ledger WHERE kind = 'charge' AND metadata::text LIKE '%reconciled%'",
        hubs.credits_db,
    )


def report(kind: str, figures: dict[str, Any]) -> None:
    shown = {k: round(v, 2) if isinstance(v, float) else v for k, v in figures.items() if "load" not in k}
    print(f"\n{kind}: {shown}")


# --- the tests ---------------------------------------------------------------------------------------------


def test_a_frozen_server_is_503_within_the_timeout_and_the_hub_recovers_after_sigcont(
    pg, hub_server_factory, hub_settings, fake_openai_thread, tmp_path
):
    hubs = start_hubs(pg, hub_server_factory, hub_settings, fake_openai_thread, tmp_path)
    figures = outage(hubs, pg.freeze, pg.thaw)
    check_books(pg, hubs, figures)
    report("frozen", figures)


@pytest.mark.parametrize("mode", ["immediate", "fast"])
def test_a_stopped_server_is_503_and_the_hub_recovers_after_a_restart_on_the_same_port(
    pg, hub_server_factory, hub_settings, fake_openai_thread, tmp_path, mode
):
    hubs = start_hubs(pg, hub_server_factory, hub_settings, fake_openai_thread, tmp_path)
    figures = outage(hubs, lambda: pg.stop(mode), pg.start)
    check_books(pg, hubs, figures)
    report(f"stopped ({mode})", figures)
