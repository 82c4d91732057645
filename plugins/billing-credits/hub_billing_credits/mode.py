"""The credits billing mode: every call is priced from its model's rate and paid from the caller's credits."""

from __future__ import annotations

import asyncio
import contextlib
import time
import weakref
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

import structlog

from hub_billing_credits import ledger
from hub_billing_credits.models import CreditLedger
from hub_core import HubError
from hub_core.billing import BillingCall, BillingMode, Hold, PaymentEvent, credits_str, not_enough, to_units

if TYPE_CHECKING:
    from hub_core import AuditActor, Caller, CallRecord, HubAPI, Users

log = structlog.get_logger("hub_billing_credits")

PREFIXES = ("", "$", "€", "¥")
MAX_ACCOUNT_CACHE = 100_000
MIN_OUTPUT_RESERVE = 16  # output tokens a chat call without max_tokens must be able to afford


class CreditsMode(BillingMode):
    """One instance per hub (`for_hub`): it holds that hub's sweeper and account cache."""

    name = "credits"
    display_name = "Credits"
    description = (
        "Service-provider mode: each call is priced from its model's rate and paid from the caller's "
        "credits; models without a rate are refused; an empty balance answers 402 with the payment link."
    )
    charges = True
    settings_schema = {
        "type": "object",
        "properties": {
            "payment_link": {"type": "string", "title": "Payment link (URL where users buy credits)"},
            "contact_text": {
                "type": "string",
                "title": "Contact text on the buy-credits page",
                "description": "Whom to ask for credits, e.g. an email address or a chat channel.",
            },
            "credit_prefix": {"type": "string", "enum": list(PREFIXES), "title": "Credit prefix"},
            "currency": {"type": "string", "title": "Currency name shown with balances"},
            "welcome_amount": {"type": "string", "title": "Welcome grant for new users (credits)"},
            "welcome_expiry_days": {
                "type": "number",
                "title": "Welcome grant expires after (days, 0 = never)",
            },
            "default_output_reserve": {
                "type": "integer",
                "title": "Output tokens held for a chat call without max_tokens",
            },
            "hold_ttl_seconds": {
                "type": "integer",
                "title": "Release holds of calls that never settled after",
            },
            "sweep_interval_seconds": {"type": "number", "title": "Expire grants and stale holds every"},
        },
    }
    defaults = {
        "payment_link": "",
        "contact_text": "",
        "credit_prefix": "",
        "currency": "",
        "welcome_amount": "0",
        "welcome_expiry_days": 0,
        "default_output_reserve": 4096,
        "hold_ttl_seconds": 6 * 3600,
        "sweep_interval_seconds": 30.0,
    }

    def __init__(self, users: Users | None = None, hub: HubAPI | None = None) -> None:
        super().__init__()
        #: the hub's users service (``hub.users``): who may be granted credits or paid for
        self.users = users
        #: the hub whose audit log records the admins' grants and debits (``hub.audit``)
        self.hub = hub
        self._accounts: set[int] = set()
        self._sweeper: asyncio.Task[None] | None = None

    # --- settings ---------------------------------------------------------------------------------------

    def validate_settings(self, changes: Mapping[str, Any]) -> dict[str, Any]:
        clean = super().validate_settings(changes)
        if "credit_prefix" in clean and clean["credit_prefix"] not in PREFIXES:
            raise HubError(400, "invalid_setting", "credit_prefix must be one of '', '$', '€', '¥'")
        if "payment_link" in clean:
            link = str(clean["payment_link"] or "")
            if link and not link.startswith(("http://", "https://", "/")):
                raise HubError(400, "invalid_setting", "payment_link must be an http(s) URL or a path")
            clean["payment_link"] = link
        if "contact_text" in clean:
            clean["contact_text"] = str(clean["contact_text"] or "")[:1000]
        if "welcome_amount" in clean:
            clean["welcome_amount"] = str(_credits(clean["welcome_amount"], "welcome_amount"))
        for key in ("welcome_expiry_days", "sweep_interval_seconds"):
            if key in clean:
                clean[key] = _number(clean[key], key, minimum=0)
        for key in ("default_output_reserve", "hold_ttl_seconds"):
            if key in clean:
                clean[key] = int(_number(clean[key], key, minimum=1))
        return clean

    def welcome(self) -> ledger.Welcome | None:
        amount = to_units(self.settings["welcome_amount"])
        if amount <= 0:
            return None
        return ledger.Welcome(amount, float(self.settings["welcome_expiry_days"]) or None)

    # --- lifecycle --------------------------------------------------------------------------------------

    async def start(self) -> None:
        self._sweeper = asyncio.create_task(self._sweep_forever(), name="credits-sweeper")

    async def stop(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
            self._sweeper = None

    async def _sweep_forever(self) -> None:
        last = time.monotonic()
        while True:
            await asyncio.sleep(min(1.0, float(self.settings["sweep_interval_seconds"]) or 1.0))
            try:
                if self.manager is not None:
                    await self.manager.refresh()  # settings changed by the CLI or another instance
                if time.monotonic() - last < float(self.settings["sweep_interval_seconds"]):
                    continue
                last = time.monotonic()
                await self.sweep()
            except Exception as exc:  # the database may be briefly down; try again next round
                log.warning("credits sweep failed", error=f"{type(exc).__name__}: {exc}")

    async def sweep(self) -> dict[str, int]:
        """Expire grants past their date and release holds of calls that never settled."""
        expired = await ledger.expire_due()
        released = await ledger.release_stale_holds(float(self.settings["hold_ttl_seconds"]), self._logged)
        return {"expired": expired, "released": released}

    async def recover(self, call_id_prefix: str, started_before: datetime) -> int:
        return await ledger.recover_holds(call_id_prefix, started_before, self._logged)

    async def _logged(self, request_id: str, call_id: str) -> int | None:
        if self.manager is None:
            return None  # not run by a hub: nothing to read the usage log through
        return await self.manager.logged_credits(request_id, call_id)

    # --- the call pipeline ------------------------------------------------------------------------------

    async def ensure_account(self, user_id: int) -> None:
        if user_id in self._accounts:
            return
        await ledger.ensure_account(user_id, self.welcome())
        if len(self._accounts) > MAX_ACCOUNT_CACHE:
            self._accounts.clear()
        self._accounts.add(user_id)

    async def admit(self, call: BillingCall) -> Hold | None:
        if call.rate is None:
            raise HubError(
                400,
                "unsupported_model",
                f"Unsupported model {call.provider}/{call.model}: it has no rate, so it cannot be billed",
                param="model",
            )
        user_id = call.caller.user_id
        await self.ensure_account(user_id)
        # With an output limit the whole worst case must be free. Without one, hold the default reserve, or
        # as much of it as the balance allows, as long as the prompt and some output are covered; a longer
        # answer is charged from what is left and never below zero (docs/billing.md, "Holds").
        wanted = call.worst_case_units(int(self.settings["default_output_reserve"]))
        minimum = wanted if call.output_limited() else call.worst_case_units(MIN_OUTPUT_RESERVE)
        amount = 0
        if wanted > 0:
            reserved = await ledger.reserve(user_id, minimum, wanted, call.call_id, call.request_id)
            if reserved is None:
                raise not_enough(self.payment_link(call.base_url))
            amount = reserved
        return Hold(call.call_id, user_id, amount, call.rate)

    async def settle(self, hold: Hold, cost: int | None, record: CallRecord) -> int | None:
        meta = {"model": record.model, "provider": record.provider, "status": record.status}
        return await ledger.settle(
            hold.user_id, hold.call_id, cost or 0, request_id=record.request_id, metadata=meta
        )

    # --- what users see ---------------------------------------------------------------------------------

    async def account(self, caller: Caller) -> dict[str, Any] | None:
        await self.ensure_account(caller.user_id)
        await ledger.expire_due(user_id=caller.user_id)
        return await ledger.figures(caller.user_id)

    async def availability(self, caller: Caller, base_url: str = "") -> HubError | None:
        figures = await self.account(caller) or {}
        if figures.get("balance", 0) - figures.get("held", 0) <= 0:
            return not_enough(self.payment_link(base_url))
        return None

    def requires_rate(self) -> bool:
        return True  # a model without a rate cannot be priced, so it is refused and not listed

    def payment_options(self, base_url: str, caller: Caller | None) -> list[dict[str, str | None]]:
        """The ways to pay the buy-credits page offers: the admin's payment link (unless it points back at
        that page), then each payment plugin's checkout link, in registration order."""
        options: list[dict[str, str | None]] = []
        link = str(self.settings.get("payment_link") or "")
        if link and link.rstrip("/") not in ("/credits", f"{base_url}/credits"):
            options.append(
                {"name": "link", "displayName": "", "link": base_url + link if link.startswith("/") else link}
            )
        if self.manager is not None:
            for provider in self.manager.payment_providers.values():
                found = provider.checkout_link(base_url, caller)
                if found:
                    options.append(
                        {
                            "name": provider.name,
                            "displayName": provider.display_name or provider.name,
                            "link": str(found),
                        }
                    )
        return options

    def payment_link(self, base_url: str) -> str | None:
        link = str(self.settings.get("payment_link") or "")
        if link.startswith("/"):
            return base_url + link if base_url else link
        if link:
            return link
        if self.manager is not None:
            for provider in self.manager.payment_providers.values():
                found = provider.checkout_link(base_url, None)
                if found:
                    return str(found)
        return f"{base_url}/credits" if base_url else None

    # --- admin operations (API and CLI) -----------------------------------------------------------------

    def _users(self) -> Users:
        if self.users is None:
            raise HubError(500, "internal_error", "The credits mode was registered without a hub")
        return self.users

    async def grant(
        self,
        user_id: int,
        amount: Any,
        *,
        reason: str | None = None,
        actor_user_id: int | None = None,
        kind: str = "grant",
        expires_at: datetime | None = None,
        idempotency_key: str | None = None,
        metadata: dict[str, Any] | None = None,
        audit: AuditActor | None = None,
    ) -> CreditLedger | None:
        """Credit `amount` to the user. `audit`: the admin making this change, recorded in the hub's audit
        log (``credits.grant``); None records nothing (a payment is in the ledger with its event id, and is
        not an admin's change)."""
        units = to_units(_credits(amount, "amount", positive=True))
        if await self._users().find(id=user_id) is None:
            raise HubError(404, "not_found", f"User {user_id} not found")
        await self.ensure_account(user_id)
        source = {"topup": "payment", "refund": "refund"}.get(kind, "admin")
        entry = await ledger.credit(
            user_id,
            units,
            kind=kind,
            source=source,
            reason=reason,
            actor_user_id=actor_user_id,
            expires_at=expires_at,
            idempotency_key=idempotency_key,
            metadata=metadata,
        )
        if entry is not None and audit is not None:
            await self._audit("credits.grant", entry, audit, expiresAt=expires_at)
        return entry

    async def take(
        self,
        user_id: int,
        amount: Any,
        *,
        reason: str | None,
        actor_user_id: int | None,
        audit: AuditActor | None = None,
    ) -> int:
        """Take up to `amount` from the user's unreserved credits; returns the units taken. `audit` as for
        `grant` (``credits.debit``; nothing is recorded when nothing was taken)."""
        units = to_units(_credits(amount, "amount", positive=True))
        if await self._users().find(id=user_id) is None:
            raise HubError(404, "not_found", f"User {user_id} not found")
        await self.ensure_account(user_id)
        entry = await ledger.debit(user_id, units, reason=reason, actor_user_id=actor_user_id)
        if entry is None:
            return 0
        if audit is not None:
            await self._audit("credits.debit", entry, audit, requested=credits_str(units))
        return -entry.amount

    async def _audit(self, action: str, entry: CreditLedger, actor: AuditActor, **extra: Any) -> None:
        """One audit entry for a grant or debit: the account's balance before and after, and what changed it
        (the amount, kind, reason and ledger entry; an expiry date or the amount asked for)."""
        if self.hub is None:
            raise HubError(500, "internal_error", "The credits mode was registered without a hub")
        after = {
            "balance": credits_str(entry.balance_after),
            "amount": credits_str(abs(entry.amount)),
            "kind": entry.kind,
            "reason": entry.reason,
            "ledgerEntryId": entry.id,
            **{k: v for k, v in extra.items() if v is not None},
        }
        before = {"balance": credits_str(entry.balance_after - entry.amount)}
        await self.hub.audit(action, "credit_account", entry.user_id, before=before, after=after, actor=actor)

    async def apply_payment(self, provider: str, event: PaymentEvent) -> CreditLedger | None:
        """Credit a verified payment once per (provider, event id); None when it was credited before."""
        user = None
        if event.user_id is not None:
            user = await self._users().find(id=event.user_id)
        elif event.user_did:
            user = await self._users().find(did=event.user_did)
        if user is None:
            raise HubError(404, "unknown_customer", "The payment names no user of this hub")
        expires = None
        if event.expires_in_days:
            from datetime import UTC, timedelta

            expires = datetime.now(UTC) + timedelta(days=event.expires_in_days)
        return await self.grant(
            user.id,
            event.credits,
            reason=event.reason,
            kind="topup",
            expires_at=expires,
            idempotency_key=f"payment:{provider}:{event.event_id}"[:200],
            metadata={"provider": provider, "eventId": event.event_id, **event.metadata},
        )


#: each hub's mode, so that the plugin's routes find the one of the hub serving the request
_BY_HUB: weakref.WeakKeyDictionary[Any, CreditsMode] = weakref.WeakKeyDictionary()


def new_for_hub(hub: HubAPI) -> CreditsMode:
    """A fresh mode for `hub` (the ``hub`` a registration hook is offered), using its users service."""
    mode = _BY_HUB[hub] = CreditsMode(hub.users, hub)
    return mode


def for_hub(hub: Any) -> CreditsMode | None:
    """The mode registered for `hub`, or None when this plugin registered none for it."""
    return _BY_HUB.get(hub)


def _credits(value: Any, name: str, *, positive: bool = False) -> Decimal:
    try:
        dec = Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise HubError(400, "invalid_request", f"{name} must be a decimal number of credits") from exc
    if not dec.is_finite() or dec < 0 or (positive and dec <= 0):
        raise HubError(400, "invalid_request", f"{name} must be {'> 0' if positive else '≥ 0'}")
    if dec > Decimal(900_000_000):
        raise HubError(400, "invalid_request", f"{name} is too large (at most 900,000,000 credits)")
    return dec


def _number(value: Any, name: str, *, minimum: float) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError) as exc:
        raise HubError(400, "invalid_setting", f"{name} must be a number") from exc
    if number < minimum:
        raise HubError(400, "invalid_setting", f"{name} must be ≥ {minimum:g}")
    return number
