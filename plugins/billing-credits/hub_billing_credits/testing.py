"""Test helpers for the credits mode, against a running `HubServer` (``hub_core.testing``): grant credits
through the admin API, and read the stored account and ledger inside the hub (`HubServer.run`), so tests can
compare the numbers a user sees with what is stored.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hub_billing_credits.models import CreditAccount, CreditGrant, CreditHold, CreditLedger
from hub_core.billing import from_units
from hub_core.testing import HubServer, call, ok, settled


def grant(server: HubServer, user_id: int, amount: Any, **extra: Any) -> dict[str, Any]:
    """Give the user `amount` credits through the admin API (``extra``: reason, kind, expiresInDays ...)."""
    body = {"userId": user_id, "amount": str(amount), **extra}
    return ok(call("POST", f"{server.url}/api/admin/credits/grants", server.admin_key, body))


def account(server: HubServer, user_id: int) -> dict[str, Decimal]:
    """The stored account, in credits: balance, held, and the sums of the ledger, grants and holds."""

    async def go() -> dict[str, Decimal]:
        row = await CreditAccount.get_or_none(user_id=user_id)
        entries = await CreditLedger.filter(user_id=user_id).values_list("amount", flat=True)
        grants = await CreditGrant.filter(user_id=user_id, expired_at=None).values_list(
            "remaining", flat=True
        )
        holds = await CreditHold.filter(user_id=user_id).values_list("amount", flat=True)
        return {
            "balance": from_units(row.balance if row else 0),
            "held": from_units(row.held if row else 0),
            "ledger": from_units(sum(entries)),
            "grants": from_units(sum(grants)),
            "holds": from_units(sum(holds)),
        }

    settled(server)  # every finished call charged first
    return server.run(go)


def ledger(server: HubServer, user_id: int) -> list[dict[str, Any]]:
    """The user's ledger entries, oldest first, as stored."""

    async def go() -> list[dict[str, Any]]:
        return await CreditLedger.filter(user_id=user_id).order_by("id").values()

    settled(server)  # every finished call charged first
    return server.run(go)
