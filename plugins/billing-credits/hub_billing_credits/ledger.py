"""Accounts, the append-only ledger, expiring grants and holds, kept consistent on SQLite and PostgreSQL.

Every transaction that changes an account starts by writing its row (`_lock`): on PostgreSQL that takes the
row lock, on SQLite the database write lock, so what the transaction then reads cannot change under it, in
this process or in another hub sharing the database; so concurrent calls can never reserve more than the
balance, and a charge never takes more than the balance.

Invariants (checked by `verify`): ``balance = Σ ledger.amount = Σ grant.remaining (unexpired)``,
``held = Σ holds``, ``0 ≤ held``, ``0 ≤ balance``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from tortoise.exceptions import IntegrityError
from tortoise.expressions import F
from tortoise.functions import Sum
from tortoise.transactions import in_transaction

from hub_billing_credits.models import CreditAccount, CreditGrant, CreditHold, CreditLedger

log = structlog.get_logger("hub_billing_credits.ledger")

CREDIT_KINDS = ("grant", "topup", "refund", "adjust")
DEBIT_KINDS = ("charge", "expiry", "adjust")


@dataclass(frozen=True)
class Welcome:
    amount: int  # units
    expires_in_days: float | None


def _now() -> datetime:
    return datetime.now(UTC)


async def _lock(user_id: int) -> bool:
    """Write the account row first thing in a transaction (see the module docstring)."""
    return bool(await CreditAccount.filter(user_id=user_id).update(version=F("version") + 1))


async def ensure_account(user_id: int, welcome: Welcome | None = None) -> bool:
    """Create the user's account (with the welcome grant, once per user ever); True when created now."""
    if await CreditAccount.exists(user_id=user_id):
        return False
    try:
        async with in_transaction():
            await CreditAccount.create(user_id=user_id)
            if welcome is not None and welcome.amount > 0:
                await _credit(
                    user_id,
                    welcome.amount,
                    kind="grant",
                    source="welcome",
                    reason="welcome grant",
                    expires_at=_expiry(welcome.expires_in_days),
                    idempotency_key=f"welcome:{user_id}",
                )
    except IntegrityError:
        return False  # another request (or another hub) created it first
    return True


def _expiry(days: float | None) -> datetime | None:
    return _now() + timedelta(days=days) if days else None


async def credit(
    user_id: int,
    amount: int,
    *,
    kind: str = "grant",
    source: str = "admin",
    reason: str | None = None,
    actor_user_id: int | None = None,
    expires_at: datetime | None = None,
    idempotency_key: str | None = None,
    metadata: dict[str, Any] | None = None,
) -> CreditLedger | None:
    """Add credits as a grant (optionally expiring). Returns the ledger entry, or None when an entry with
    the same `idempotency_key` exists (a webhook delivered twice)."""
    if amount <= 0:
        raise ValueError("a credit must be positive")
    await ensure_account(user_id)
    try:
        async with in_transaction():
            await _lock(user_id)
            if idempotency_key and await CreditLedger.exists(idempotency_key=idempotency_key):
                return None
            return await _credit(
                user_id,
                amount,
                kind=kind,
                source=source,
                reason=reason,
                actor_user_id=actor_user_id,
                expires_at=expires_at,
                idempotency_key=idempotency_key,
                metadata=metadata,
            )
    except IntegrityError:
        if idempotency_key:
            return None
        raise


async def _credit(user_id: int, amount: int, **kw: Any) -> CreditLedger:
    grant = await CreditGrant.create(
        user_id=user_id,
        source=kw.get("source") or "admin",
        amount=amount,
        remaining=amount,
        expires_at=kw.get("expires_at"),
    )
    await CreditAccount.filter(user_id=user_id).update(
        balance=F("balance") + amount, credited=F("credited") + amount
    )
    account = await CreditAccount.get(user_id=user_id)
    return await CreditLedger.create(
        user_id=user_id,
        kind=kw.get("kind") or "grant",
        amount=amount,
        balance_after=account.balance,
        reason=kw.get("reason"),
        actor_user_id=kw.get("actor_user_id"),
        grant_id=grant.id,
        idempotency_key=kw.get("idempotency_key"),
        metadata={
            **(kw.get("metadata") or {}),
            **({"expiresAt": grant.expires_at.isoformat()} if grant.expires_at else {}),
        },
        created_at=_now(),
    )


async def debit(
    user_id: int,
    amount: int,
    *,
    kind: str = "adjust",
    reason: str | None = None,
    actor_user_id: int | None = None,
    idempotency_key: str | None = None,
) -> CreditLedger | None:
    """Take credits away (an admin correction), never below the credits not reserved by calls in flight.
    Returns the ledger entry (its ``-amount`` is the units taken), or None when nothing could be taken."""
    if amount <= 0:
        raise ValueError("a debit must be positive")
    async with in_transaction():
        if not await _lock(user_id):
            return None
        return await _take(
            user_id,
            amount,
            kind=kind,
            reason=reason,
            actor_user_id=actor_user_id,
            idempotency_key=idempotency_key,
        )


async def _take(user_id: int, wanted: int, **kw: Any) -> CreditLedger | None:
    """Inside a locked transaction: debit up to `wanted` from the unreserved balance, earliest-expiring
    grants first; one ledger entry, returned (None when nothing was free to take)."""
    account = await CreditAccount.get(user_id=user_id)
    amount = min(wanted, max(0, account.balance - account.held))
    if amount <= 0:
        return None
    metadata = dict(kw.get("metadata") or {})
    if amount < wanted:  # the call cost more than its hold and the free balance: the rest is not charged
        metadata["uncharged"] = wanted - amount
    await _consume_grants(user_id, amount)
    await CreditAccount.filter(user_id=user_id).update(
        balance=F("balance") - amount, debited=F("debited") + amount
    )
    return await CreditLedger.create(
        user_id=user_id,
        kind=kw.get("kind") or "charge",
        amount=-amount,
        balance_after=account.balance - amount,
        reason=kw.get("reason"),
        actor_user_id=kw.get("actor_user_id"),
        call_id=kw.get("call_id"),
        request_id=kw.get("request_id"),
        idempotency_key=kw.get("idempotency_key"),
        metadata=metadata,
        created_at=_now(),
    )


async def _consume_grants(user_id: int, amount: int) -> None:
    grants = await CreditGrant.filter(user_id=user_id, remaining__gt=0, expired_at=None)
    far = datetime.max.replace(tzinfo=UTC)
    grants.sort(key=lambda g: (g.expires_at or far, g.id))
    left = amount
    for grant in grants:
        if left <= 0:
            break
        take = min(grant.remaining, left)
        await CreditGrant.filter(id=grant.id).update(remaining=F("remaining") - take)
        left -= take
    if left > 0:  # the balance said the credits were there: the grants disagree, which verify() reports
        log.error("grants do not cover a debit", user_id=user_id, missing=left)


# --- holds ------------------------------------------------------------------------------------------------


async def reserve(
    user_id: int, minimum: int, wanted: int, call_id: str, request_id: str | None
) -> int | None:
    """Reserve up to `wanted` units for one call, if at least `minimum` is free (not reserved by other calls);
    returns the units reserved, or None when even `minimum` is not free. Atomic: the account row is locked
    first, so concurrent calls (in any hub sharing the database) can never reserve more than the balance."""
    async with in_transaction():
        if not await _lock(user_id):
            return None
        account = await CreditAccount.get(user_id=user_id)
        free = account.balance - account.held
        if free < minimum or free <= 0:
            return None
        amount = min(wanted, free)
        await CreditAccount.filter(user_id=user_id).update(held=F("held") + amount)
        await CreditHold.create(
            id=call_id, user_id=user_id, amount=amount, request_id=(request_id or "")[:64], created_at=_now()
        )
    return amount


async def settle(
    user_id: int,
    call_id: str,
    cost: int,
    *,
    request_id: str | None = None,
    metadata: dict[str, Any] | None = None,
) -> int:
    """Release the call's hold and charge `cost`; idempotent per `call_id`. Returns the units charged (the
    cost, or less when even the released hold and the free balance cannot cover it)."""
    key = f"charge:{call_id}"
    async with in_transaction():
        if not await _lock(user_id):
            return 0
        hold = await CreditHold.get_or_none(id=call_id)
        if hold is not None:
            await CreditHold.filter(id=call_id).delete()
            await CreditAccount.filter(user_id=user_id).update(held=F("held") - hold.amount)
        else:
            done = await CreditLedger.get_or_none(idempotency_key=key)
            if done is not None:
                return -done.amount  # settled before
        if cost <= 0:
            return 0
        entry = await _take(
            user_id,
            cost,
            kind="charge",
            reason="model call",
            call_id=call_id,
            request_id=(request_id or "")[:64] or None,
            idempotency_key=key,
            metadata=metadata,
        )
        return -entry.amount if entry is not None else 0


#: what the usage log recorded a billed call cost: ``(request_id, call_id) -> units | None``
LoggedCost = Callable[[str, str], Awaitable[int | None]]


async def release_stale_holds(older_than_seconds: float, logged: LoggedCost) -> int:
    """Close holds of calls that never settled (their hub died, or the database was away longer than the
    settlement retries); returns how many. A call the usage log recorded is charged what it recorded (its
    hub priced it when it ended); a call it never recorded is released free."""
    cutoff = _now() - timedelta(seconds=older_than_seconds)
    released = 0
    for hold in await CreditHold.filter(created_at__lt=cutoff).limit(500):
        released += await _close(hold, "after a missed settlement", logged)
    return released


async def recover_holds(call_id_prefix: str, started_before: datetime, logged: LoggedCost) -> int:
    """Close the holds of calls an earlier run of one hub process left open when it died (their ids start
    with its `call_id_prefix`), as `release_stale_holds` does, without waiting for the hold time-out."""
    closed, seen = 0, set()
    query = CreditHold.filter(id__startswith=call_id_prefix, created_at__lt=started_before)
    while batch := [h for h in await query.limit(500) if h.id not in seen]:  # one pass over each hold
        for hold in batch:
            seen.add(hold.id)
            closed += await _close(hold, "after a crash", logged)
    return closed


async def _close(hold: CreditHold, why: str, logged: LoggedCost) -> int:
    """Charge an open hold what the usage log recorded for its call, or release it free when the log has no
    row for it; 1 when this closed it."""
    cost = await logged(hold.request_id, hold.id) if hold.request_id else None
    if cost is not None:
        charged = await settle(
            hold.user_id,
            hold.id,
            cost,
            request_id=hold.request_id,
            metadata={"reconciled": f"from the usage log {why}"},
        )
        log.warning("settled an open hold from the usage log", call_id=hold.id, charged=charged, why=why)
        return 1
    async with in_transaction():
        await _lock(hold.user_id)
        if await CreditHold.filter(id=hold.id).delete():
            await CreditAccount.filter(user_id=hold.user_id).update(held=F("held") - hold.amount)
            log.warning("released an open hold", call_id=hold.id, user_id=hold.user_id, why=why)
            return 1
    return 0


# --- expiry -----------------------------------------------------------------------------------------------


async def expire_due(user_id: int | None = None, now: datetime | None = None) -> int:
    """Expire the unused part of every grant past its expiry; returns how many grants expired."""
    now = now or _now()
    query = CreditGrant.filter(expires_at__lte=now, expired_at=None)
    if user_id is not None:
        query = query.filter(user_id=user_id)
    count = 0
    for grant in await query.limit(500):
        async with in_transaction():
            await _lock(grant.user_id)
            fresh = await CreditGrant.get(id=grant.id)
            if fresh.expired_at is not None:
                continue
            await CreditGrant.filter(id=grant.id).update(remaining=0, expired_at=now)
            count += 1
            if fresh.remaining <= 0:
                continue
            await CreditAccount.filter(user_id=grant.user_id).update(
                balance=F("balance") - fresh.remaining, debited=F("debited") + fresh.remaining
            )
            account = await CreditAccount.get(user_id=grant.user_id)
            await CreditLedger.create(
                user_id=grant.user_id,
                kind="expiry",
                amount=-fresh.remaining,
                balance_after=account.balance,
                reason="grant expired",
                grant_id=grant.id,
                idempotency_key=f"expiry:{grant.id}",
                created_at=now,
            )
    return count


# --- reading ----------------------------------------------------------------------------------------------


async def figures(user_id: int) -> dict[str, int]:
    account = await CreditAccount.get_or_none(user_id=user_id)
    if account is None:
        return {"balance": 0, "held": 0, "credited": 0, "debited": 0, "grant_count": 0}
    grants = await CreditGrant.filter(user_id=user_id, expired_at=None, remaining__gt=0).count()
    return {
        "balance": account.balance,
        "held": account.held,
        "credited": account.credited,
        "debited": account.debited,
        "grant_count": grants,
    }


async def verify(user_id: int) -> dict[str, Any]:
    """Recompute the account from the ledger, grants and holds; ``ok`` says whether everything agrees."""
    account = await CreditAccount.get_or_none(user_id=user_id)
    ledger = await _sum(CreditLedger.filter(user_id=user_id), "amount")
    grants = await _sum(CreditGrant.filter(user_id=user_id, expired_at=None), "remaining")
    holds = await _sum(CreditHold.filter(user_id=user_id), "amount")
    balance = account.balance if account else 0
    held = account.held if account else 0
    ok = balance == ledger == grants and held == holds and balance >= 0 and held >= 0
    return {"ok": ok, "balance": balance, "ledger": ledger, "grants": grants, "held": held, "holds": holds}


async def _sum(query: Any, column: str) -> int:
    rows = await query.annotate(total=Sum(column)).values("total")
    return int(rows[0]["total"] or 0) if rows else 0
