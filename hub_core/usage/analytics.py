"""Usage analytics: hourly and daily rollups kept up to date by the usage-log writer, and the queries the
usage API answers from them (trends, top models, projects, quota). Page views never scan the raw call log,
except the paginated call history itself.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from tortoise.expressions import Q
from tortoise.functions import Count, Max, Sum

from hub_core.billing.pricing import from_units, to_units
from hub_core.db import models as m
from hub_core.db import tortoise_overrides
from hub_core.types import CallRecord

HOURLY_RANGE_LIMIT = 92 * 86400  # longer ranges read the daily rollups (days in UTC)
KEY_COLUMNS = ("period", "bucket", "user_id", "app_did", "provider", "model", "kind")
SUM_COLUMNS = (
    "calls",
    "success_calls",
    "failed_calls",
    "aborted_calls",
    "input_tokens",
    "output_tokens",
    "cached_tokens",
    "cache_write_tokens",
    "images",
    "seconds",
    "credits",
    "duration_ms_sum",
    "ttfb_ms_sum",
    "ttfb_count",
)
MAX_COLUMNS = ("last_call_at",)
ROWS_PER_STATEMENT = 400  # 23 parameters a row stays far below SQLite's variable limit


class Totals:
    """The sums one batch adds to one rollup row, in `SUM_COLUMNS` order, and its latest call."""

    __slots__ = ("last_call_at", "sums")

    def __init__(self) -> None:
        self.sums: list[float] = [0] * len(SUM_COLUMNS)
        self.last_call_at: float = 0

    @property
    def values(self) -> dict[str, float]:
        return {**dict(zip(SUM_COLUMNS, self.sums, strict=True)), "last_call_at": self.last_call_at}

    def add(self, record: CallRecord) -> None:
        self.add_amounts(amounts(record), record.started_at)

    def add_amounts(self, added: Iterable[float], started_at: float) -> None:
        self.sums = list(map(operator.add, self.sums, added))
        if started_at > self.last_call_at:
            self.last_call_at = started_at


def amounts(record: CallRecord) -> tuple[float, ...]:
    """What one call adds to each of `SUM_COLUMNS`."""
    u, status = record.usage, record.status
    ttfb = record.ttfb_ms
    return (
        1,
        status == "success",
        status == "error",
        status == "aborted",
        u.input_tokens,
        u.output_tokens,
        u.cached_input_tokens,
        u.cache_write_tokens,
        u.images,
        u.seconds,
        record_credit_units(record),
        round(record.duration_ms, 1),
        0 if ttfb is None else round(ttfb, 1),
        ttfb is not None,
    )


def record_credit_units(record: CallRecord) -> int:
    return to_units(record.extra.get("credits"))


def rollup_key(record: CallRecord, period: str, size: int) -> tuple[Any, ...]:
    bucket = int(record.started_at // size) * size
    return (
        period,
        bucket,
        record.user_id or 0,
        (record.app_did or "")[:200],
        record.provider or "",
        (record.upstream_model or record.model or "")[:200],
        record.kind,
    )


def aggregate(batch: Iterable[CallRecord]) -> dict[tuple[Any, ...], Totals]:
    """The rollup rows a batch adds to, hourly and daily, in key order (so that hub instances sharing a
    database lock the rows they both update in the same order). Records are summed per hour first; each
    day row is then the sum of its hours, which is far fewer additions than one per record."""
    hours: dict[tuple[Any, ...], Totals] = {}
    for record in batch:
        key = rollup_key(record, "hour", 3600)
        totals = hours.get(key)
        if totals is None:
            totals = hours[key] = Totals()
        totals.add_amounts(amounts(record), record.started_at)
    out = dict(hours)
    for key, hour in hours.items():
        day_key = ("day", key[1] // 86400 * 86400, *key[2:])
        totals = out.get(day_key)
        if totals is None:
            totals = out[day_key] = Totals()
        totals.add_amounts(hour.sums, hour.last_call_at)
    return dict(sorted(out.items()))


async def apply_rollups(batch: list[CallRecord]) -> None:
    """Add a batch of finished calls to the hourly and daily rollups: one upsert per 400 distinct keys.
    Runs inside the usage writer's transaction, so the raw log and the rollups never disagree."""
    groups = list(aggregate(batch).items())
    if not groups:
        return
    conn = tortoise_overrides.connection_of(m.UsageRollup)
    postgres = tortoise_overrides.is_postgres(conn)
    for start in range(0, len(groups), ROWS_PER_STATEMENT):
        part = groups[start : start + ROWS_PER_STATEMENT]
        sql, params = upsert_sql(part, postgres)
        await conn.execute_query(sql, params)


def upsert_sql(groups: list[tuple[tuple[Any, ...], Totals]], postgres: bool) -> tuple[str, list[Any]]:
    columns = KEY_COLUMNS + SUM_COLUMNS + MAX_COLUMNS
    params: list[Any] = []
    rows = []
    for key, totals in groups:
        sums = totals.values
        values = list(key) + [_db_value(c, sums[c]) for c in SUM_COLUMNS + MAX_COLUMNS]
        marks = []
        for value in values:
            params.append(value)
            marks.append(f"${len(params)}" if postgres else "?")
        rows.append("(" + ", ".join(marks) + ")")
    greatest = "GREATEST" if postgres else "MAX"
    updates = [f"{c} = usage_rollups.{c} + excluded.{c}" for c in SUM_COLUMNS]
    updates += [f"{c} = {greatest}(usage_rollups.{c}, excluded.{c})" for c in MAX_COLUMNS]
    sql = (
        f"INSERT INTO usage_rollups ({', '.join(columns)}) VALUES {', '.join(rows)} "
        f"ON CONFLICT ({', '.join(KEY_COLUMNS)}) DO UPDATE SET {', '.join(updates)}"
    )
    return sql, params


def _db_value(column: str, value: float) -> Any:
    if column in ("seconds", "duration_ms_sum", "ttfb_ms_sum", "last_call_at"):
        return float(value)
    return int(value)


# --- queries ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """Whose calls a query covers: one user, or everyone (admins only), optionally one app."""

    user_id: int | None
    app_did: str | None = None

    def rollup_filter(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.user_id is not None:
            out["user_id"] = self.user_id
        if self.app_did is not None:
            out["app_did"] = self.app_did
        return out


@dataclass(frozen=True)
class Window:
    start: int  # unix seconds, inclusive
    end: int  # unix seconds, exclusive
    tz: tzinfo

    @property
    def period(self) -> str:
        return "hour" if self.end - self.start <= HOURLY_RANGE_LIMIT else "day"

    @property
    def size(self) -> int:
        return 3600 if self.period == "hour" else 86400

    def bucket_range(self) -> tuple[int, int]:
        size = self.size
        return (self.start // size) * size, self.end


SUMS = {f"s_{c}": Sum(c) for c in SUM_COLUMNS}


def _totals(row: dict[str, Any]) -> dict[str, float]:
    return {c: float(row.get(f"s_{c}") or 0) for c in SUM_COLUMNS}


def _stats(t: dict[str, float]) -> dict[str, Any]:
    """The original hub's figures from summed columns (durations: seconds; ttfb: milliseconds)."""
    calls = int(t["calls"])
    return {
        "calls": calls,
        "successCalls": int(t["success_calls"]),
        "failedCalls": int(t["failed_calls"]),
        "abortedCalls": int(t["aborted_calls"]),
        "successRate": round(100 * t["success_calls"] / calls, 2) if calls else 0,
        "avgDuration": round(t["duration_ms_sum"] / calls / 1000, 3) if calls else 0,
        "avgTtfb": round(t["ttfb_ms_sum"] / t["ttfb_count"], 1) if t["ttfb_count"] else 0,
        "totalCredits": float(from_units(int(t["credits"]))),
        "inputTokens": int(t["input_tokens"]),
        "outputTokens": int(t["output_tokens"]),
        "cachedTokens": int(t["cached_tokens"]),
        "totalUsage": int(t["input_tokens"] + t["output_tokens"]),
        "images": int(t["images"]),
        "seconds": round(t["seconds"], 3),
    }


def _rollups(scope: Scope, window: Window) -> Any:
    lo, hi = window.bucket_range()
    return m.UsageRollup.filter(period=window.period, bucket__gte=lo, bucket__lt=hi, **scope.rollup_filter())


async def trends(scope: Scope, window: Window, granularity: str | None = None) -> dict[str, Any]:
    """Calls, success rate, durations, credits and tokens per hour or per local day of the caller."""
    granularity = granularity or ("hour" if window.end - window.start <= 86400 else "day")
    if granularity == "hour" and window.period == "day":
        granularity = "day"
    rows = await _rollups(scope, window).annotate(**SUMS).group_by("bucket").values("bucket", *SUMS)
    points: dict[int, dict[str, float]] = {}
    for row in rows:
        key = _period_start(int(row["bucket"]), granularity, window.tz)
        acc = points.setdefault(key, dict.fromkeys(SUM_COLUMNS, 0.0))
        for column, value in _totals(row).items():
            acc[column] += value
    empty = dict.fromkeys(SUM_COLUMNS, 0.0)
    series = [
        {"timestamp": ts, **_stats(points.get(ts, empty))} for ts in _period_starts(window, granularity)
    ]
    return {"trends": series, "granularity": granularity, "timezone": str(window.tz)}


def _period_start(ts: int, granularity: str, tz: tzinfo) -> int:
    if granularity == "hour":
        return ts - ts % 3600
    local = datetime.fromtimestamp(ts, tz)
    return int(datetime(local.year, local.month, local.day, tzinfo=tz).timestamp())


def _period_starts(window: Window, granularity: str) -> list[int]:
    out = []
    ts = _period_start(window.start, granularity, window.tz)
    while ts < window.end and len(out) < 10_000:
        out.append(ts)
        if granularity == "hour":
            ts += 3600
        else:
            local = datetime.fromtimestamp(ts, window.tz) + timedelta(days=1, hours=3)
            ts = int(datetime(local.year, local.month, local.day, tzinfo=window.tz).timestamp())
    return out


async def summary(scope: Scope, window: Window) -> dict[str, Any]:
    rows = await _rollups(scope, window).annotate(**SUMS).values(*SUMS)
    return _stats(_totals(rows[0] if rows else {}))


async def top_models(scope: Scope, window: Window, limit: int = 5) -> dict[str, Any]:
    base = _rollups(scope, window).annotate(**SUMS).group_by("provider", "model")
    rows = await base.order_by("-s_calls").limit(limit).values("provider", "model", *SUMS)
    count = len(
        await _rollups(scope, window)
        .annotate(n=Sum("calls"))
        .group_by("provider", "model")
        .values("provider")
    )
    items = [
        {
            "provider": r["provider"] or None,
            "providerId": r["provider"] or None,
            "model": r["model"],
            "totalCalls": int(r["s_calls"] or 0),
            **{k: v for k, v in _stats(_totals(r)).items() if k != "calls"},
        }
        for r in rows
    ]
    return {"modelStats": {"list": items, "totalModelCount": count}}


#: what the cost breakdown groups by, and the rollup columns that say it (keys are only in the raw log)
BREAKDOWNS = {"model": ("provider", "model"), "user": ("user_id",), "project": ("app_did",)}


async def breakdown(scope: Scope, window: Window, by: str, limit: int = 20) -> list[dict[str, Any]]:
    """Calls, tokens and credits per model, user, project or access key, most credits first (then calls).
    Models, users and projects come from the rollups; keys from the raw call log."""
    if by == "key":
        return await _by_key(scope, window, limit)
    columns = BREAKDOWNS[by]
    rows = (
        await _rollups(scope, window)
        .annotate(**SUMS)
        .group_by(*columns)
        .order_by("-s_credits", "-s_calls")
        .limit(limit)
        .values(*columns, *SUMS)
    )
    names: dict[Any, str] = {}
    if by == "user":
        ids = {r["user_id"] for r in rows if r["user_id"] is not None}
        names = dict(await m.User.filter(id__in=ids).values_list("id", "name")) if ids else {}
    out = []
    for r in rows:
        if by == "model":
            ident = f"{r['provider']}/{r['model']}" if r["provider"] else r["model"]
            name = ident
        else:
            ident = r[columns[0]]
            name = names.get(ident) if by == "user" else ident
        out.append({"id": ident, "name": name, **_stats(_totals(r))})
    return out


async def _by_key(scope: Scope, window: Window, limit: int) -> list[dict[str, Any]]:
    query = call_query(scope, {"start": window.start, "end": window.end})
    rows = (
        await query.annotate(
            n=Count("id"),
            s_in=Sum("input_tokens"),
            s_out=Sum("output_tokens"),
            s_credits=Sum("credits"),
        )
        .group_by("key_id")
        .order_by("-s_credits", "-n")
        .limit(limit)
        .values("key_id", "n", "s_in", "s_out", "s_credits")
    )
    ids = {r["key_id"] for r in rows if r["key_id"] is not None}
    names = dict(await m.AccessKey.filter(id__in=ids).values_list("id", "name")) if ids else {}
    return [
        {
            "id": r["key_id"],
            "name": names.get(r["key_id"]),
            "calls": int(r["n"] or 0),
            "inputTokens": int(r["s_in"] or 0),
            "outputTokens": int(r["s_out"] or 0),
            "totalCredits": float(from_units(int(r["s_credits"] or 0))),
        }
        for r in rows
    ]


PROJECT_SORTS = {"totalCalls": "s_calls", "totalCredits": "s_credits", "lastCallTime": "last"}


async def projects(
    scope: Scope, window: Window, page: int, size: int, sort_by: str = "totalCalls", order: str = "desc"
) -> dict[str, Any]:
    column = PROJECT_SORTS.get(sort_by, "s_calls")
    sign = "" if order == "asc" else "-"
    base = _rollups(scope, window).annotate(**SUMS, last=Max("last_call_at")).group_by("app_did")
    rows = (
        await base.order_by(f"{sign}{column}", "app_did")
        .offset((page - 1) * size)
        .limit(size)
        .values("app_did", "last", *SUMS)
    )
    total = len(await _rollups(scope, window).annotate(n=Sum("calls")).group_by("app_did").values("app_did"))
    items = []
    for r in rows:
        stats = _stats(_totals(r))
        items.append(
            {
                "appDid": r["app_did"] or None,
                "appName": _app_name(r["app_did"]),
                "totalCalls": stats["calls"],
                "totalCredits": stats["totalCredits"],
                "totalUsage": stats["totalUsage"],
                "avgDuration": stats["avgDuration"],
                "successRate": stats["successRate"],
                "lastCallTime": int(float(r["last"] or 0)),
            }
        )
    return {"projects": items, "total": total, "page": page, "pageSize": size}


def _app_name(app_did: str | None) -> str | None:
    if not app_did:
        return None
    return app_did[4:] if app_did.startswith("key:") else None


async def credits_per_day(user_id: int, days: int = 30, now: float | None = None) -> tuple[int, int]:
    """(credit units used over the last `days` UTC days, number of days since the first use among them)."""
    now = now or datetime.now(UTC).timestamp()
    today = int(now // 86400) * 86400
    since = today - (days - 1) * 86400
    rows = (
        await m.UsageRollup.filter(period="day", user_id=user_id, bucket__gte=since, credits__gt=0)
        .annotate(total=Sum("credits"))
        .group_by("bucket")
        .values("bucket", "total")
    )
    if not rows:
        return 0, 0
    first = min(int(r["bucket"]) for r in rows)
    used = sum(int(r["total"] or 0) for r in rows)
    return used, (today - first) // 86400 + 1


def days_left(remaining_units: int, used_units: int, active_days: int) -> tuple[float, int]:
    """(average credits per day, estimated days until the balance runs out; 999 without usage)."""
    if used_units <= 0 or active_days <= 0:
        return 0.0, 999
    per_day = used_units / active_days
    return float(from_units(round(per_day))), min(999, max(0, math.floor(remaining_units / per_day)))


# --- the raw call log (paginated) ------------------------------------------------------------------------


def call_query(scope: Scope, filters: dict[str, Any]) -> Any:
    query = m.ModelCall.all()
    if scope.user_id is not None:
        query = query.filter(user_id=scope.user_id)
    if scope.app_did is not None:
        query = query.filter(app_did=scope.app_did)
    if filters.get("start") is not None:
        query = query.filter(created_at__gte=datetime.fromtimestamp(filters["start"], UTC))
    if filters.get("end") is not None:
        query = query.filter(created_at__lt=datetime.fromtimestamp(filters["end"], UTC))
    status = filters.get("status")
    if status == "success":
        query = query.filter(status="success")
    elif status == "failed":
        query = query.filter(status__in=["error", "aborted"])
    elif status in ("error", "aborted"):
        query = query.filter(status=status)
    for key, column in (("kind", "kind"), ("provider", "provider"), ("requestId", "request_id")):
        if filters.get(key):
            query = query.filter(**{column: filters[key]})
    if model := filters.get("model"):
        query = query.filter(model_matches(str(model)[:200]))
    if filters.get("userId") is not None:
        query = query.filter(user_id=filters["userId"])
    if filters.get("keyId") is not None:
        query = query.filter(key_id=filters["keyId"])
    if filters.get("minDuration") is not None:
        query = query.filter(duration_ms__gte=float(filters["minDuration"]) * 1000)
    if search := filters.get("search"):
        query = query.filter(
            Q(model__icontains=search)
            | Q(upstream_model__icontains=search)
            | Q(request_id__icontains=search)
            | Q(app_did__icontains=search)
            | Q(error__icontains=search)
        )
    return query


def model_matches(text: str) -> Q:
    """A model filter as people type it: part of the model id or of the upstream model, or
    ``provider/model`` (the way the console and clients name models) with part of the model."""
    match = Q(model__icontains=text) | Q(upstream_model__icontains=text)
    provider, _, model = text.partition("/")
    if model:
        match |= Q(provider=provider, model__icontains=model)
    return match


@dataclass(frozen=True)
class CallNames:
    """What a page of calls refers to by id or name: provider ids (the ids ``/api/ai-providers`` uses),
    user and key names. Read once per page, so the log shows names without a query per row."""

    provider_ids: dict[str, int]
    users: dict[int, str]
    keys: dict[int, str]


async def call_names(rows: Iterable[m.ModelCall]) -> CallNames:
    rows = list(rows)
    user_ids = {r.user_id for r in rows if r.user_id is not None}
    key_ids = {r.key_id for r in rows if r.key_id is not None}
    providers = {r.provider for r in rows if r.provider}
    return CallNames(
        provider_ids=dict(await m.Provider.filter(name__in=providers).values_list("name", "id"))
        if providers
        else {},
        users=dict(await m.User.filter(id__in=user_ids).values_list("id", "name")) if user_ids else {},
        keys=dict(await m.AccessKey.filter(id__in=key_ids).values_list("id", "name")) if key_ids else {},
    )


def call_dict(row: m.ModelCall, names: CallNames | None = None) -> dict[str, Any]:
    meta = row.metadata or {}
    billed_input = meta.get("billed_input_tokens")
    return {
        "id": row.id,
        "requestId": row.request_id,
        "callTime": int(row.created_at.timestamp()),
        "createdAt": row.created_at.isoformat(),
        "userId": row.user_id,
        "keyId": row.key_id,
        "appDid": row.app_did,
        "endpoint": row.endpoint,
        "type": row.kind,
        "userName": names.users.get(row.user_id) if names and row.user_id is not None else None,
        "keyName": names.keys.get(row.key_id) if names and row.key_id is not None else None,
        "model": row.model,
        "providerId": names.provider_ids.get(row.provider) if names and row.provider else None,
        "provider": row.provider,
        "upstreamModel": row.upstream_model,
        "stream": row.stream,
        "status": "failed" if row.status == "error" else row.status,
        "httpStatus": row.http_status,
        "errorReason": row.error,
        "usageMetrics": {
            "inputTokens": row.input_tokens,
            "outputTokens": row.output_tokens,
            "cacheReadInputTokens": row.cached_tokens,
            "cacheCreationInputTokens": row.cache_write_tokens,
            "reasoningTokens": row.reasoning_tokens,
            "numberOfImageGeneration": row.images,
            "seconds": row.seconds,
        },
        "totalUsage": row.input_tokens + row.output_tokens,
        "credits": format(from_units(row.credits), "f"),
        "duration": round(row.duration_ms / 1000, 1),
        "durationMs": row.duration_ms,
        "ttfb": row.ttfb_ms,
        "usageEstimated": bool(meta.get("usage_estimated")),
        # a stream cut before its usage: charged for a prompt estimated by the hub (docs/billing.md)
        "billedInputTokens": billed_input if isinstance(billed_input, int) else None,
        # the providers tried before the one that answered (failover), each with its status and code
        "failover": meta.get("failover") if isinstance(meta.get("failover"), list) else [],
    }


CSV_COLUMNS = (
    ("createdAt", "time"),
    ("requestId", "request id"),
    ("userId", "user"),
    ("userName", "user name"),
    ("keyName", "key"),
    ("appDid", "app"),
    ("provider", "provider"),
    ("model", "model"),
    ("type", "type"),
    ("status", "status"),
    ("httpStatus", "http status"),
    ("inputTokens", "input tokens"),
    ("outputTokens", "output tokens"),
    ("cachedTokens", "cached tokens"),
    ("images", "images"),
    ("seconds", "seconds"),
    ("credits", "credits"),
    ("durationMs", "duration ms"),
    ("ttfb", "ttfb ms"),
    ("errorReason", "error"),
)


#: column titles of the CSV export in Chinese (``locale=zh``); English otherwise
CSV_TITLES_ZH = {
    "time": "时间",
    "request id": "请求 ID",
    "user": "用户",
    "user name": "用户名",
    "key": "密钥",
    "app": "应用",
    "provider": "服务商",
    "model": "模型",
    "type": "类型",
    "status": "状态",
    "http status": "HTTP 状态码",
    "input tokens": "输入 token",
    "output tokens": "输出 token",
    "cached tokens": "缓存 token",
    "images": "图片数",
    "seconds": "秒数",
    "credits": "积分",
    "duration ms": "耗时 (毫秒)",
    "ttfb ms": "首字节时间 (毫秒)",
    "error": "错误",
}


def csv_titles(locale: str) -> list[str]:
    """The header row in the console's language (``zh``, ``zh-CN`` ... get Chinese)."""
    titles = [title for _, title in CSV_COLUMNS]
    return [CSV_TITLES_ZH.get(t, t) for t in titles] if locale.startswith("zh") else titles


async def provider_name(provider_id: int) -> str | None:
    row = await m.Provider.get_or_none(id=provider_id)
    return row.name if row else None


def csv_row(call: dict[str, Any]) -> list[Any]:
    metrics = call["usageMetrics"]
    flat = {
        **call,
        "inputTokens": metrics["inputTokens"],
        "outputTokens": metrics["outputTokens"],
        "cachedTokens": metrics["cacheReadInputTokens"],
        "images": metrics["numberOfImageGeneration"],
        "seconds": metrics["seconds"],
    }
    return [flat.get(key) if flat.get(key) is not None else "" for key, _ in CSV_COLUMNS]
