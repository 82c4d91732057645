"""HTTP routes of the credits mode: the caller's balance, grants and ledger; admin accounts and grants; the
payment-provider webhooks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from quart import Blueprint, Response, request

from hub_billing_credits import ledger
from hub_billing_credits.mode import CreditsMode, for_hub
from hub_billing_credits.models import CreditAccount, CreditGrant, CreditLedger
from hub_core import HubError
from hub_core.billing import credits_str
from hub_core.web import (
    admin_error,
    as_hub_error,
    audit_actor,
    current_hub,
    json_body,
    json_response,
    request_base_url,
    require_admin,
    require_user,
)

bp = Blueprint("billing_credits", __name__)


@bp.errorhandler(Exception)
async def _error(exc: Exception) -> Response:
    return admin_error(as_hub_error(exc))


def credits_mode() -> CreditsMode:
    mode = for_hub(current_hub())
    if mode is None:
        raise HubError(404, "not_found", "The credits billing mode is not installed")
    return mode


def _paging() -> tuple[int, int]:
    try:
        page = max(1, int(request.args.get("page", 1)))
        size = min(100, max(1, int(request.args.get("pageSize", 20))))
    except ValueError as exc:
        raise HubError(400, "invalid_request", "page and pageSize must be integers") from exc
    return page, size


def entry_dict(row: CreditLedger) -> dict[str, Any]:
    return {
        "id": row.id,
        "userId": row.user_id,
        "kind": row.kind,
        "amount": credits_str(row.amount),
        "balanceAfter": credits_str(row.balance_after),
        "reason": row.reason,
        "actorUserId": row.actor_user_id,
        "callId": row.call_id,
        "requestId": row.request_id,
        "grantId": row.grant_id,
        "metadata": row.metadata or {},
        "createdAt": row.created_at.isoformat() if row.created_at else None,
    }


def grant_dict(row: CreditGrant) -> dict[str, Any]:
    return {
        "id": row.id,
        "userId": row.user_id,
        "source": row.source,
        "amount": credits_str(row.amount),
        "remaining": credits_str(row.remaining),
        "expiresAt": row.expires_at.isoformat() if row.expires_at else None,
        "expiredAt": row.expired_at.isoformat() if row.expired_at else None,
        "createdAt": row.created_at.isoformat() if row.created_at else None,
    }


async def balance_dict(mode: CreditsMode, user_id: int) -> dict[str, Any]:
    await mode.ensure_account(user_id)
    await ledger.expire_due(user_id=user_id)
    f = await ledger.figures(user_id)
    return {
        "userId": user_id,
        "balance": credits_str(f["balance"] - f["held"]),
        "ledgerBalance": credits_str(f["balance"]),
        "pendingCredit": credits_str(f["held"]),
        "total": credits_str(f["credited"]),
        "used": credits_str(f["debited"]),
        "grantCount": f["grant_count"],
        "currency": mode.settings.get("currency") or None,
        "creditPrefix": mode.settings.get("credit_prefix") or "",
        "paymentLink": mode.payment_link(request_base_url()),
    }


async def _ledger_page(user_id: int | None) -> dict[str, Any]:
    page, size = _paging()
    query = CreditLedger.all()
    if user_id is not None:
        query = query.filter(user_id=user_id)
    if kind := request.args.get("kind"):
        query = query.filter(kind=kind)
    count = await query.count()
    rows = await query.order_by("-id").offset((page - 1) * size).limit(size)
    return {"count": count, "list": [entry_dict(r) for r in rows], "paging": {"page": page, "pageSize": size}}


# --- the caller's own credits -----------------------------------------------------------------------------


@bp.get("/api/user/credit/balance")
async def my_balance() -> Response:
    caller = await require_user()
    return json_response(await balance_dict(credits_mode(), caller.user_id))


@bp.get("/api/user/credit/transactions")
async def my_transactions() -> Response:
    caller = await require_user()
    return json_response(await _ledger_page(caller.user_id))


@bp.get("/api/user/credit/grants")
async def my_grants() -> Response:
    caller = await require_user()
    page, size = _paging()
    query = CreditGrant.filter(user_id=caller.user_id)
    count = await query.count()
    rows = await query.order_by("-id").offset((page - 1) * size).limit(size)
    return json_response(
        {"count": count, "list": [grant_dict(g) for g in rows], "paging": {"page": page, "pageSize": size}}
    )


@bp.get("/api/user/credit/purchase")
async def my_purchase_options() -> Response:
    """What the console's buy-credits page (``/credits``, the default 402 link) shows the caller: balance,
    the admin's contact text, the welcome grant and one entry per way to pay (docs/billing.md)."""
    caller = await require_user()
    mode = credits_mode()
    expiry = float(mode.settings.get("welcome_expiry_days") or 0)
    return json_response(
        {
            "active": mode.manager is not None and mode.manager.mode_name == mode.name,
            "balance": await balance_dict(mode, caller.user_id),
            "contact": str(mode.settings.get("contact_text") or ""),
            "welcome": {
                "amount": str(mode.settings.get("welcome_amount") or "0"),
                "expiresInDays": expiry or None,
            },
            "options": mode.payment_options(request_base_url(), caller),
        }
    )


@bp.get("/api/user/credit/payment-link")
async def my_payment_link() -> Response:
    await require_user()
    return json_response({"paymentLink": credits_mode().payment_link(request_base_url())})


# --- admin ------------------------------------------------------------------------------------------------


@bp.get("/api/admin/credits/accounts")
async def accounts() -> Response:
    await require_admin()
    page, size = _paging()
    query = CreditAccount.all()
    if q := request.args.get("q"):
        found = await current_hub().users.search(name=q)
        query = query.filter(user_id__in=[u.id for u in found])
    count = await query.count()
    rows = await query.order_by("user_id").offset((page - 1) * size).limit(size)
    names = {u.id: u for u in await current_hub().users.search(ids=[r.user_id for r in rows])}
    items = []
    for row in rows:
        user = names.get(row.user_id)
        items.append(
            {
                "userId": row.user_id,
                "userName": user.name if user else None,
                "userDid": user.did if user else None,
                "balance": credits_str(row.balance - row.held),
                "ledgerBalance": credits_str(row.balance),
                "pendingCredit": credits_str(row.held),
                "total": credits_str(row.credited),
                "used": credits_str(row.debited),
                "updatedAt": row.updated_at.isoformat() if row.updated_at else None,
            }
        )
    return json_response({"count": count, "list": items, "paging": {"page": page, "pageSize": size}})


@bp.get("/api/admin/credits/accounts/<int:user_id>")
async def account(user_id: int) -> Response:
    await require_admin()
    if await current_hub().users.find(id=user_id) is None:
        raise HubError(404, "not_found", f"User {user_id} not found")
    out = await balance_dict(credits_mode(), user_id)
    out["consistency"] = await ledger.verify(user_id)
    return json_response(out)


@bp.get("/api/admin/credits/accounts/<int:user_id>/ledger")
async def account_ledger(user_id: int) -> Response:
    await require_admin()
    return json_response(await _ledger_page(user_id))


@bp.get("/api/admin/credits/accounts/<int:user_id>/grants")
async def account_grants(user_id: int) -> Response:
    await require_admin()
    rows = await CreditGrant.filter(user_id=user_id).order_by("-id").limit(200)
    return json_response({"list": [grant_dict(g) for g in rows]})


@bp.post("/api/admin/credits/grants")
async def create_grant() -> Response:
    """``{userId, amount, reason?, kind?: grant|topup|refund, expiresInDays? | expiresAt?}``"""
    admin = await require_admin()
    body = await json_body()
    kind = str(body.get("kind") or "grant")
    if kind not in ("grant", "topup", "refund"):
        raise HubError(400, "invalid_request", "kind must be grant, topup or refund")
    entry = await credits_mode().grant(
        _user_id(body),
        body.get("amount"),
        reason=(str(body["reason"])[:500] if body.get("reason") else None),
        actor_user_id=admin.user_id,
        kind=kind,
        expires_at=_expires(body),
        idempotency_key=(str(body["idempotencyKey"])[:200] if body.get("idempotencyKey") else None),
        audit=await audit_actor(admin),
    )
    if entry is None:
        return json_response({"duplicate": True}, 200)
    return json_response(entry_dict(entry), 201)


@bp.post("/api/admin/credits/debits")
async def create_debit() -> Response:
    """``{userId, amount, reason?}``: take credits away (never below what calls in flight reserved)."""
    admin = await require_admin()
    body = await json_body()
    taken = await credits_mode().take(
        _user_id(body),
        body.get("amount"),
        reason=body.get("reason"),
        actor_user_id=admin.user_id,
        audit=await audit_actor(admin),
    )
    return json_response({"taken": credits_str(taken)})


@bp.post("/api/admin/credits/sweep")
async def sweep() -> Response:
    """Expire due grants and release stale holds now (normally done every ``sweep_interval_seconds``)."""
    await require_admin()
    return json_response(await credits_mode().sweep())


def _user_id(body: dict[str, Any]) -> int:
    try:
        return int(body.get("userId"))  # type: ignore[arg-type]
    except (TypeError, ValueError) as exc:
        raise HubError(400, "invalid_request", "userId must be a user id", param="userId") from exc


def _expires(body: dict[str, Any]) -> datetime | None:
    if body.get("expiresInDays") not in (None, "", 0):
        try:
            days = float(body["expiresInDays"])
            if not 0 < days <= 36_500:  # also refuses nan and inf
                raise ValueError(days)
        except (TypeError, ValueError) as exc:
            message = "expiresInDays must be a number of days (at most 36500)"
            raise HubError(400, "invalid_request", message) from exc
        return datetime.now(UTC) + timedelta(days=days)
    if body.get("expiresAt"):
        try:
            parsed = datetime.fromisoformat(str(body["expiresAt"]).replace("Z", "+00:00"))
        except ValueError as exc:
            raise HubError(400, "invalid_request", "expiresAt must be an ISO 8601 date-time") from exc
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


# --- payment webhooks ---------------------------------------------------------------------------------------


@bp.post("/api/billing/payments/<name>/webhook")
async def payment_webhook(name: str) -> Response:
    """A payment service calls this; the named payment provider verifies it, then the user is credited
    once per event id (a redelivered event answers 200 with ``duplicate: true``)."""
    manager = credits_mode().manager
    provider = manager.payment_providers.get(name) if manager is not None else None
    if provider is None:  # unknown, or its plugin is disabled
        raise HubError(404, "not_found", f"No payment provider {name!r}")
    body = await request.get_data(cache=False)
    event = provider.verify_webhook(request.headers, body)
    if event is None:
        return json_response({"received": True, "credited": False})
    entry = await credits_mode().apply_payment(name, event)
    if entry is None:
        return json_response({"received": True, "credited": False, "duplicate": True})
    return json_response({"received": True, "credited": True, "entry": entry_dict(entry)})
