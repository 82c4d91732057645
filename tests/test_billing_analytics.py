"""Usage analytics: rollups kept by the usage-log writer equal the raw log after a burst of calls (on SQLite
and PostgreSQL), and the usage API answers from them in the caller's time zone, scoped to the caller."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hub_billing_credits.testing import grant, ledger

from hub_core.testing.billing import call, new_user, ok, set_rate, settled, use_mode
from hub_core.types import CallRecord, Usage

SUMMED = ("input_tokens", "output_tokens", "cached_tokens", "credits")


@pytest.fixture(params=["sqlite", "postgres"])
def db_hub(request, hub_server_factory, hub_settings, fake_openai_thread):
    settings = hub_settings
    if request.param == "postgres":
        settings = hub_settings.with_(database_url=request.getfixturevalue("pg_url"))
    server = hub_server_factory(settings)
    server.add_provider("openai", base_url=fake_openai_thread.base_url, credential=fake_openai_thread.api_key)
    return server


def chat(server, key: str, app: str, model: str = "openai/gpt-4o-mini", stream: bool = False) -> int:
    body = {"model": model, "stream": stream, "messages": [{"role": "user", "content": f"hello from {app}"}]}
    return call(
        "POST", f"{server.url}/v1/chat/completions", key, body, headers={"x-aigne-hub-client-did": app}
    ).status


def rollups(server) -> list[dict]:
    from hub_core.db import models as m

    return server.run(lambda: m.UsageRollup.all().values())


def test_rollups_equal_the_raw_log_after_a_burst(db_hub):
    use_mode(db_hub, "credits")
    set_rate(db_hub, "openai", "gpt-4o-mini", "0.0001", "0.0003")
    set_rate(db_hub, "openai", "fail-500", "0.0001", "0.0003")
    users = [new_user(db_hub, f"u{i}") for i in range(2)]
    for user_id, _ in users:
        grant(db_hub, user_id, 100)
    jobs = []
    for i in range(36):
        _, key = users[i % 2]
        model = "openai/fail-500" if i % 9 == 0 else "openai/gpt-4o" if i % 11 == 0 else "openai/gpt-4o-mini"
        jobs.append((key, f"app-{i % 3}", model, i % 4 == 0))
    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(lambda j: chat(db_hub, j[0], j[1], j[2], j[3]), jobs))
    assert (statuses.count(200), statuses.count(400), statuses.count(502)) == (29, 3, 4), statuses
    settled(db_hub)
    raw = db_hub.calls()
    assert len(raw) == 36

    for period, size in (("hour", 3600), ("day", 86400)):
        expected: dict[tuple, dict[str, float]] = defaultdict(lambda: defaultdict(float))
        for r in raw:
            bucket = int(r["created_at"].timestamp() // size) * size
            key = (
                bucket,
                r["user_id"],
                r["app_did"],
                r["provider"] or "",
                r["upstream_model"] or r["model"],
                r["kind"],
            )
            e = expected[key]
            e["calls"] += 1
            e["success_calls"] += r["status"] == "success"
            e["failed_calls"] += r["status"] == "error"
            e["duration_ms_sum"] += r["duration_ms"]
            for column in SUMMED:
                e[column] += r[column]
        got = {
            (g["bucket"], g["user_id"], g["app_did"], g["provider"], g["model"], g["kind"]): g
            for g in rollups(db_hub)
            if g["period"] == period
        }
        assert set(got) == set(expected)
        for key, e in expected.items():
            g = got[key]
            for column in ("calls", "success_calls", "failed_calls", *SUMMED):
                assert g[column] == e[column], (period, key, column)
            assert g["duration_ms_sum"] == pytest.approx(e["duration_ms_sum"])

    # the ledger, the call log and the rollups agree to the credit
    for user_id, _ in users:
        charged = -sum(e["amount"] for e in ledger(db_hub, user_id) if e["kind"] == "charge")
        logged = sum(r["credits"] for r in raw if r["user_id"] == user_id)
        rolled = sum(
            g["credits"] for g in rollups(db_hub) if g["period"] == "day" and g["user_id"] == user_id
        )
        assert charged == logged == rolled > 0


def record(user_id: int, when: str, **kw) -> CallRecord:
    started = datetime.fromisoformat(when).replace(tzinfo=UTC).timestamp()
    usage = kw.pop("usage", Usage(input_tokens=10, output_tokens=5))
    rec = CallRecord(
        request_id=kw.pop("rid", f"r-{when}"),
        endpoint="/v1/chat/completions",
        kind="chat",
        model=kw.pop("model", "openai/gpt-4o-mini"),
        started_at=started,
        user_id=user_id,
        provider="openai",
        upstream_model=kw.pop("upstream", "gpt-4o-mini"),
        app_did=kw.pop("app", "app-a"),
        usage=usage,
        duration_ms=kw.pop("duration", 1000.0),
        ttfb_ms=kw.pop("ttfb", 100.0),
        status=kw.pop("status", "success"),
        extra={"credits": kw.pop("credits", "0.5")},
    )
    return rec


def write(server, records: list[CallRecord]) -> None:
    async def go() -> None:
        for rec in records:
            server.hub.writer.enqueue(rec)
        await server.hub.writer.flush()

    server.run(go)


def ts(when: str) -> int:
    return int(datetime.fromisoformat(when).replace(tzinfo=UTC).timestamp())


@pytest.fixture
def history(hub):
    """Two users' calls at known times (written through the usage-log writer, rollups included)."""
    alice, alice_key = new_user(hub, "alice")
    bob, bob_key = new_user(hub, "bob")
    write(
        hub,
        [
            record(alice, "2026-01-01T23:30:00", rid="a1"),
            record(alice, "2026-01-02T00:30:00", rid="a2", status="error", ttfb=None, credits="0"),
            record(
                alice, "2026-01-02T10:00:00", rid="a3", upstream="gpt-4o", model="openai/gpt-4o", app="app-b"
            ),
            record(alice, "2026-01-03T10:00:00", rid="a4", app="app-b", duration=3000.0),
            record(bob, "2026-01-02T12:00:00", rid="b1", app="app-c", credits="2"),
        ],
    )
    return hub, (alice, alice_key), (bob, bob_key)


def get(server, key, path: str, **params):
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return call("GET", f"{server.url}{path}?{query}", key)


RANGE = {"startTime": ts("2026-01-01T00:00:00"), "endTime": ts("2026-01-04T00:00:00")}


def test_trends_follow_the_callers_time_zone(history):
    hub, (_, key), _ = history
    utc = ok(get(hub, key, "/api/usage/trends", **RANGE))
    assert utc["granularity"] == "day"
    assert [p["calls"] for p in utc["trends"]] == [1, 2, 1]
    shanghai = ok(get(hub, key, "/api/usage/trends", **RANGE, tz="Asia/Shanghai"))
    by_day = {datetime.fromtimestamp(p["timestamp"], UTC).isoformat(): p for p in shanghai["trends"]}
    # 2026-01-01 23:30Z and 2026-01-02 00:30Z are both 2 January in Shanghai
    assert by_day["2026-01-01T16:00:00+00:00"]["calls"] == 3
    assert by_day["2026-01-01T16:00:00+00:00"]["successRate"] == pytest.approx(66.67)
    same = ok(get(hub, key, "/api/usage/trends", **RANGE, timezoneOffset=-480))
    assert [p["calls"] for p in same["trends"]] == [p["calls"] for p in shanghai["trends"]]
    day = ok(get(hub, key, "/api/usage/trends", **RANGE))["trends"][2]
    assert day["avgDuration"] == 3.0 and day["avgTtfb"] == 100.0 and day["totalCredits"] == 0.5
    assert day["totalUsage"] == 15
    hourly = ok(
        get(
            hub,
            key,
            "/api/usage/trends",
            startTime=ts("2026-01-02T00:00:00"),
            endTime=ts("2026-01-03T00:00:00"),
        )
    )
    assert hourly["granularity"] == "hour" and len(hourly["trends"]) == 24
    assert hourly["trends"][0]["calls"] == 1 and hourly["trends"][0]["failedCalls"] == 1


def test_members_see_their_own_usage_and_admins_everyones(history):
    hub, (_, key), (bob, _) = history
    mine = ok(get(hub, key, "/api/usage/summary", **RANGE))
    assert mine["calls"] == 4
    assert get(hub, key, "/api/usage/summary", **RANGE, allUsers="true").status == 403
    assert get(hub, key, "/api/usage/calls", userId=bob).status == 403
    everyone = ok(get(hub, hub.admin_key, "/api/usage/summary", **RANGE, allUsers="true"))
    assert everyone["calls"] == 5 and everyone["totalCredits"] == 3.5
    only_bob = ok(get(hub, hub.admin_key, "/api/usage/summary", **RANGE, userId=bob))
    assert only_bob["calls"] == 1


def test_top_models_and_projects(history):
    hub, (_, key), _ = history
    top = ok(get(hub, key, "/api/usage/models", **RANGE))["modelStats"]
    assert top["totalModelCount"] == 2
    assert [(m["model"], m["totalCalls"]) for m in top["list"]] == [("gpt-4o-mini", 3), ("gpt-4o", 1)]
    projects = ok(get(hub, key, "/api/usage/projects", **RANGE, sortBy="totalCalls"))
    assert projects["total"] == 2
    assert [(p["appDid"], p["totalCalls"]) for p in projects["projects"]] == [("app-a", 2), ("app-b", 2)]
    assert projects["projects"][0]["successRate"] == 50.0
    paged = ok(
        get(
            hub,
            hub.admin_key,
            "/api/usage/projects",
            **RANGE,
            allUsers="true",
            pageSize=1,
            page=2,
            sortBy="totalCredits",
        )
    )
    assert (
        paged["total"] == 3
        and len(paged["projects"]) == 1
        and paged["projects"][0]["appDid"] in ("app-a", "app-b")
    )
    trends = ok(get(hub, key, "/api/usage/projects/trends", **RANGE, appDid="app-b"))
    assert trends["summary"]["calls"] == 2


def test_call_history_filters_searches_pages_and_exports(history):
    hub, (_, key), _ = history
    page = ok(get(hub, key, "/api/usage/calls", pageSize=2))
    assert page["count"] == 4 and [c["requestId"] for c in page["list"]] == ["a4", "a3"]
    assert ok(get(hub, key, "/api/usage/calls", pageSize=2, page=2))["list"][1]["requestId"] == "a1"
    failed = ok(get(hub, key, "/api/user/model-calls", status="failed"))
    assert [c["requestId"] for c in failed["list"]] == ["a2"] and failed["list"][0]["status"] == "failed"
    assert ok(get(hub, key, "/api/usage/calls", search="gpt-4o-mini"))["count"] == 3
    assert ok(get(hub, key, "/api/usage/calls", appDid="app-b"))["count"] == 2
    assert ok(get(hub, key, "/api/usage/calls", minDurationSeconds=2))["count"] == 1
    windowed = ok(
        get(
            hub,
            key,
            "/api/usage/calls",
            startTime=ts("2026-01-02T00:00:00"),
            endTime=ts("2026-01-03T00:00:00"),
        )
    )
    assert windowed["count"] == 2
    export = get(hub, key, "/api/usage/calls/export", appDid="app-b")
    assert export.status == 200 and export.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(export.body)))
    assert rows[0][:2] == ["time", "request id"] and [r[1] for r in rows[1:]] == ["a4", "a3"]
    assert Decimal(rows[1][rows[0].index("credits")]) == Decimal("0.5")


def test_call_log_names_ids_substring_model_filter_and_localised_csv(history):
    """Issue 16: the model filter takes part of a name; providerId is the id /api/ai-providers uses; each
    call names its user and key; the CSV export follows the console's language."""
    hub, (_, key), _ = history
    assert ok(get(hub, key, "/api/usage/calls", model="4o-mini"))["count"] == 3
    assert ok(get(hub, key, "/api/usage/calls", model="openai/gpt-4o"))["count"] == 4
    assert ok(get(hub, key, "/api/usage/calls", model="GPT-4O"))["count"] == 4
    providers = ok(call("GET", f"{hub.url}/api/ai-providers", hub.admin_key))
    provider_id = next(p["id"] for p in providers if p["name"] == "openai")
    listed = ok(get(hub, key, "/api/usage/calls", pageSize=1))["list"][0]
    assert listed["providerId"] == provider_id and listed["provider"] == "openai"
    assert listed["userName"] == "alice"
    assert ok(get(hub, key, "/api/usage/calls", providerId=provider_id))["count"] == 4
    assert get(hub, key, "/api/usage/calls", providerId=999).status == 400
    zh = list(csv.reader(io.StringIO(get(hub, key, "/api/usage/calls/export", locale="zh-CN").body)))
    assert zh[0][:3] == ["时间", "请求 ID", "用户"] and len(zh) == 5
    assert zh[1][zh[0].index("用户名")] == "alice"


def test_quota_reports_balance_daily_average_and_days_left(hub):
    use_mode(hub, "credits")
    user_id, key = new_user(hub)
    grant(hub, user_id, 10)
    now = datetime.now(UTC)
    write(hub, [record(user_id, now.replace(tzinfo=None).isoformat(timespec="seconds"), credits="2")])
    quota = ok(get(hub, key, "/api/usage/quota"))
    assert quota["enableCredit"] is True and quota["remaining"] == "10" and quota["total"] == "10"
    assert quota["dailyAvgCredits"] == 2.0 and quota["estimatedDaysRemaining"] == 5
    use_mode(hub, "free")
    free = ok(get(hub, key, "/api/usage/quota"))
    assert free["enableCredit"] is False and free["remaining"] is None and free["usedLast30Days"] == "2"


@pytest.mark.parametrize("seed", range(20))
def test_rollup_aggregation_matches_adding_each_call_to_its_hour_and_day(seed):
    """`aggregate` sums per hour and derives the days from the hours; the result must be what adding every
    call to both of its rows gives, and its keys come sorted (the lock order shared by hub instances)."""
    import random

    from hub_core.usage.analytics import Totals, aggregate, rollup_key

    rng = random.Random(seed)
    batch = []
    for i in range(rng.randint(1, 300)):
        rec = CallRecord(
            request_id=f"r{i}",
            endpoint="/v1/chat/completions",
            kind=rng.choice(["chat", "embedding"]),
            model=rng.choice(["openai/a", "b"]),
            started_at=1_700_000_000 + rng.randint(0, 3 * 86400),
            user_id=rng.choice([None, 1, 2]),
            app_did=rng.choice([None, "key:x", "did:y"]),
            provider="openai",
            upstream_model=rng.choice([None, "a"]),
            status=rng.choice(["success", "error", "aborted"]),
            usage=Usage(input_tokens=rng.randint(0, 99), output_tokens=rng.randint(0, 99), seconds=0.5),
            duration_ms=rng.random() * 100,
            ttfb_ms=rng.choice([None, rng.random() * 50]),
        )
        rec.extra["credits"] = str(Decimal(rng.randint(0, 999)) / 1000)
        batch.append(rec)

    expected: dict[tuple, list[float]] = {}
    latest: dict[tuple, float] = defaultdict(float)
    for rec in batch:
        one = Totals()
        one.add(rec)
        for period, size in (("hour", 3600), ("day", 86400)):
            key = rollup_key(rec, period, size)
            sums = expected.setdefault(key, [0] * len(one.sums))
            expected[key] = [a + b for a, b in zip(sums, one.sums, strict=True)]
            latest[key] = max(latest[key], rec.started_at)

    got = aggregate(batch)
    assert list(got) == sorted(expected)
    for key, totals in got.items():
        assert totals.sums == pytest.approx(expected[key])
        assert totals.last_call_at == latest[key]


def test_cost_breakdown_by_model_user_project_and_key(history):
    """`/api/usage/breakdown`: credits and tokens per group, most credits first; members see only theirs."""
    hub, (_, alice_key), _ = history
    admin = hub.admin_key

    def rows(key: str, by: str, **extra) -> list[tuple]:
        answer = ok(get(hub, key, "/api/usage/breakdown", by=by, **RANGE, **extra))
        return [(r["name"], r["calls"], r["totalCredits"]) for r in answer["list"]]

    assert rows(admin, "user", allUsers="true") == [("bob", 1, 2.0), ("alice", 4, 1.5)]
    assert rows(admin, "model", allUsers="true") == [
        ("openai/gpt-4o-mini", 4, 3.0),
        ("openai/gpt-4o", 1, 0.5),
    ]
    assert rows(admin, "project", allUsers="true") == [
        ("app-c", 1, 2.0),
        ("app-b", 2, 1.0),
        ("app-a", 2, 0.5),
    ]
    assert rows(admin, "key", allUsers="true") == [(None, 5, 3.5)]  # these calls were written without a key
    assert rows(alice_key, "model") == [("openai/gpt-4o-mini", 3, 1.0), ("openai/gpt-4o", 1, 0.5)]
    tokens = ok(get(hub, alice_key, "/api/usage/breakdown", by="project", **RANGE))["list"][0]
    assert (tokens["inputTokens"], tokens["outputTokens"]) == (20, 10)
    assert get(hub, alice_key, "/api/usage/breakdown", by="user", allUsers="true").status == 403
    assert get(hub, alice_key, "/api/usage/breakdown", by="planet").status == 400
