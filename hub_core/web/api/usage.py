"""Usage analytics API (both billing modes): quota, trends, top models, projects, call history and CSV.

Members see their own calls; admins add ``allUsers=true`` (everyone) or ``userId=N``. Times are unix seconds;
``tz`` (an IANA zone such as ``Asia/Shanghai``) or ``timezoneOffset`` (minutes, as JavaScript's
``Date.getTimezoneOffset()`` returns them) sets the caller's days. Aggregates come from the rollups.
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import AsyncIterator
from datetime import UTC, timedelta, timezone, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from quart import Blueprint, Response, request

from hub_core.billing.pricing import credits_str
from hub_core.errors import HubError, bad_request
from hub_core.types import Caller
from hub_core.usage import analytics
from hub_core.usage.analytics import Scope, Window
from hub_core.web.api.admin_auth import require_user
from hub_core.web.api.common import admin_error, as_hub_error, current_hub, json_response

bp = Blueprint("usage", __name__)

DEFAULT_DAYS = 7
MAX_RANGE_DAYS = 3 * 366
EXPORT_LIMIT = 10_000
MAX_TIMESTAMP = 253_402_300_799  # 9999-12-31T23:59:59Z
MAX_PAGE = 1_000_000  # offsets stay far inside every database's integer range


@bp.errorhandler(Exception)
async def _error(exc: Exception) -> Response:
    return admin_error(as_hub_error(exc))


# --- parameters -------------------------------------------------------------------------------------------


def _int_arg(name: str, default: int | None = None) -> int | None:
    raw = request.args.get(name)
    if raw in (None, ""):
        return default
    try:
        return int(float(raw))
    except (ValueError, OverflowError) as exc:  # "abc", "nan", "inf", "1e400"
        raise bad_request(f"{name} must be a number", param=name) from exc


def _seconds(value: int | None, name: str = "startTime") -> int | None:
    """Accept unix seconds or milliseconds, between 1970 and 9999 (what dates can hold)."""
    if value is None:
        return None
    seconds = value // 1000 if value > 10**11 else value
    if not 0 <= seconds <= MAX_TIMESTAMP:
        raise bad_request(f"{name} must be a unix time in seconds or milliseconds", param=name)
    return seconds


def _tz() -> tzinfo:
    name = request.args.get("tz") or request.args.get("timezone")
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise bad_request(f"Unknown time zone {name!r}", param="tz") from exc
    offset = _int_arg("timezoneOffset")
    if offset is None:
        return UTC
    if abs(offset) > 14 * 60:
        raise bad_request("timezoneOffset must be minutes between -840 and 840", param="timezoneOffset")
    return timezone(timedelta(minutes=-offset))


def _window() -> Window:
    now = int(time.time())
    end = _seconds(_int_arg("endTime"), "endTime") or now
    days = _int_arg("timeRange")
    start = _seconds(_int_arg("startTime"))
    if start is None:
        start = max(0, end - min(days or DEFAULT_DAYS, MAX_RANGE_DAYS + 1) * 86400)
    if start >= end:
        raise bad_request("startTime must be before endTime", param="startTime")
    if end - start > MAX_RANGE_DAYS * 86400:
        raise bad_request(f"the range may span at most {MAX_RANGE_DAYS} days", param="startTime")
    return Window(start, end, _tz())


def _user_id_arg() -> int | None:
    user_id = _int_arg("userId")
    if user_id is not None and not 0 < user_id < 2**31:
        raise bad_request("userId must be a user id", param="userId")
    return user_id


def _flag(name: str) -> bool:
    return request.args.get(name, "").lower() in ("1", "true", "yes")


def _scope(caller: Caller) -> Scope:
    """Whose usage: admins may ask for everyone or for one user; members get their own."""
    app_did = request.args.get("appDid") or None
    user_id = _user_id_arg()
    if _flag("allUsers"):
        _admin(caller)
        return Scope(user_id, app_did)
    if user_id is not None and user_id != caller.user_id:
        _admin(caller)
        return Scope(user_id, app_did)
    return Scope(caller.user_id, app_did)


def _admin(caller: Caller) -> None:
    if not caller.is_admin:
        raise HubError(403, "forbidden", "Forbidden: only admins see other users' usage")


def _paging(max_size: int = 100) -> tuple[int, int]:
    page = min(MAX_PAGE, max(1, _int_arg("page", 1) or 1))
    size = min(max_size, max(1, _int_arg("pageSize", 20) or 20))
    return page, size


# --- aggregates ---------------------------------------------------------------------------------------------


@bp.get("/api/usage/quota")
async def quota() -> Response:
    """Balance, used, reserved, daily average and estimated days left (credits mode), usage either way."""
    caller = await require_user()
    scope = _scope(caller)
    user_id = scope.user_id if scope.user_id is not None else caller.user_id
    billing = current_hub().gateway.billing
    await billing.refresh()
    used_30d, active_days = await analytics.credits_per_day(user_id)
    out: dict[str, Any] = {
        "enableCredit": billing.charges,
        "currency": None,
        "creditPrefix": billing.credit_prefix,
        "usedLast30Days": credits_str(used_30d),
    }
    mode = billing.active() if billing.charges else None
    if mode is None:
        avg, _ = analytics.days_left(0, used_30d, active_days)
        return json_response(
            {
                **out,
                "total": None,
                "remaining": None,
                "used": None,
                "pendingCredit": None,
                "dailyAvgCredits": avg,
                "estimatedDaysRemaining": None,
            }
        )
    figures = await mode.account(Caller(user_id, "", "", "member")) or {}
    remaining = int(figures.get("balance", 0)) - int(figures.get("held", 0))
    avg, days = analytics.days_left(remaining, used_30d, active_days)
    return json_response(
        {
            **out,
            "currency": mode.settings.get("currency") or None,
            "total": credits_str(int(figures.get("credited", 0))),
            "remaining": credits_str(remaining),
            "used": credits_str(int(figures.get("debited", 0))),
            "pendingCredit": credits_str(int(figures.get("held", 0))),
            "dailyAvgCredits": avg,
            "estimatedDaysRemaining": days,
        }
    )


@bp.get("/api/usage/summary")
async def summary() -> Response:
    caller = await require_user()
    return json_response(await analytics.summary(_scope(caller), _window()))


@bp.get("/api/usage/trends")
async def trends() -> Response:
    caller = await require_user()
    granularity = request.args.get("granularity")
    if granularity not in (None, "hour", "day"):
        raise bad_request("granularity must be hour or day", param="granularity")
    return json_response(await analytics.trends(_scope(caller), _window(), granularity))


@bp.get("/api/usage/models")
@bp.get("/api/user/usage-stats")
async def top_models() -> Response:
    caller = await require_user()
    limit = min(50, max(1, _int_arg("limit", 5) or 5))
    return json_response(await analytics.top_models(_scope(caller), _window(), limit))


@bp.get("/api/usage/breakdown")
async def breakdown() -> Response:
    """``?by=model|user|key|project``: calls, tokens and credits per group over the window (most credits
    first), for the console's "cost by" tables; members see their own calls, admins everyone's with
    ``allUsers``."""
    caller = await require_user()
    by = request.args.get("by") or "model"
    if by not in (*analytics.BREAKDOWNS, "key"):
        raise bad_request("by must be model, user, key or project", param="by")
    limit = min(100, max(1, _int_arg("limit", 20) or 20))
    return json_response({"by": by, "list": await analytics.breakdown(_scope(caller), _window(), by, limit)})


@bp.get("/api/user/admin/user-stats")
async def admin_top_models() -> Response:
    caller = await require_user()
    _admin(caller)
    limit = min(50, max(1, _int_arg("limit", 5) or 5))
    return json_response(await analytics.top_models(Scope(_user_id_arg()), _window(), limit))


@bp.get("/api/usage/projects")
async def projects() -> Response:
    caller = await require_user()
    page, size = _paging()
    sort_by = request.args.get("sortBy", "totalCalls")
    order = request.args.get("sortOrder", "desc")
    if sort_by not in analytics.PROJECT_SORTS or order not in ("asc", "desc"):
        raise bad_request("sortBy must be totalCalls, totalCredits or lastCallTime; sortOrder asc or desc")
    return json_response(await analytics.projects(_scope(caller), _window(), page, size, sort_by, order))


@bp.get("/api/usage/projects/trends")
async def project_trends() -> Response:
    caller = await require_user()
    scope = _scope(caller)
    if scope.app_did is None:
        raise bad_request("appDid is required", param="appDid")
    window = _window()
    return json_response(
        {**await analytics.trends(scope, window), "summary": await analytics.summary(scope, window)}
    )


# --- the call log -------------------------------------------------------------------------------------------


async def _provider_name(ref: str | None) -> str | None:
    """``providerId`` is the numeric id ``/api/ai-providers`` uses (a provider name is accepted too)."""
    if not ref or not ref.isdigit():
        return ref or None
    found = await analytics.provider_name(int(ref))
    if found is None:
        raise bad_request(f"Unknown providerId {ref}", param="providerId")
    return found


def _optional_int(name: str) -> int | None:
    value = request.args.get(name)
    if value in (None, ""):
        return None
    if not value.isdigit():
        raise bad_request(f"{name} must be a number", param=name)
    return int(value)


async def _call_filters() -> dict[str, Any]:
    window_given = request.args.get("startTime") or request.args.get("endTime")
    filters: dict[str, Any] = {
        "start": _seconds(_int_arg("startTime")) if window_given else None,
        "end": _seconds(_int_arg("endTime"), "endTime") if window_given else None,
        "status": request.args.get("status") or "all",
        "model": request.args.get("model"),
        "kind": request.args.get("type") or request.args.get("kind"),
        "provider": await _provider_name(request.args.get("providerId") or request.args.get("provider")),
        "userId": _optional_int("userId"),
        "keyId": _optional_int("keyId"),
        "requestId": request.args.get("requestId"),
        "search": (request.args.get("search") or "").strip()[:200] or None,
    }
    if (minimum := request.args.get("minDurationSeconds")) not in (None, ""):
        try:
            filters["minDuration"] = float(minimum)
            if not 0 <= filters["minDuration"] < 10**9:
                raise ValueError(minimum)
        except ValueError as exc:
            raise bad_request("minDurationSeconds must be a number", param="minDurationSeconds") from exc
    if filters["status"] not in ("all", "success", "failed", "error", "aborted"):
        raise bad_request("status must be success, failed or all", param="status")
    return filters


@bp.get("/api/usage/calls")
@bp.get("/api/usage/projects/calls")
@bp.get("/api/user/model-calls")
async def calls() -> Response:
    caller = await require_user()
    page, size = _paging()
    query = analytics.call_query(_scope(caller), await _call_filters())
    count = await query.count()
    rows = await query.order_by("-id").offset((page - 1) * size).limit(size)
    names = await analytics.call_names(rows)
    return json_response(
        {
            "count": count,
            "list": [analytics.call_dict(r, names) for r in rows],
            "paging": {"page": page, "pageSize": size},
        }
    )


@bp.get("/api/usage/calls/export")
@bp.get("/api/user/model-calls/export")
async def export_calls() -> Response:
    """The filtered call history as CSV (newest first, at most 10,000 rows), streamed in pages."""
    caller = await require_user()
    query = analytics.call_query(_scope(caller), await _call_filters()).order_by("-id")
    locale = (request.args.get("locale") or "en").lower()
    # the first page is read before the answer starts, so a query the database refuses is a clean error
    first = await query.offset(0).limit(500)

    async def rows() -> AsyncIterator[bytes]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(analytics.csv_titles(locale))
        sent = 0
        while sent < EXPORT_LIMIT:
            page = first if sent == 0 else await query.offset(sent).limit(min(500, EXPORT_LIMIT - sent))
            if not page:
                break
            names = await analytics.call_names(page)
            for row in page:
                writer.writerow(analytics.csv_row(analytics.call_dict(row, names)))
            sent += len(page)
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
        if buffer.getvalue():
            yield buffer.getvalue().encode()

    headers = {"Content-Disposition": 'attachment; filename="model-calls.csv"'}
    return Response(rows(), content_type="text/csv; charset=utf-8", headers=headers)
