"""The `BillingManager` the gateway calls around every upstream call: admission (a hold for the worst case)
before, settlement (the real cost) after, with the active `BillingMode` (contracts in
`hub_core.billing.contracts`).

The admin picks the active mode (``aigne-hub billing mode NAME`` or ``PUT /api/admin/billing``); the choice
and each mode's settings live in ``hub_state`` and reach every instance with the configuration generation.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import structlog

from hub_core.billing.contracts import CREDITS_HEADER, BillingCall, BillingMode, Hold, PaymentProvider
from hub_core.billing.pricing import (
    credits_str,
    fair_prompt_tokens,
    from_units,
    requested_output,
    to_units,
)
from hub_core.billing.rates import RateBook
from hub_core.db import audit
from hub_core.db import models as m
from hub_core.errors import HubError
from hub_core.types import Caller, CallRecord, Usage, random_id
from hub_core.usage.writer import amend_credits

if TYPE_CHECKING:
    from hub_core.config import Settings
    from hub_core.infra.plugin_host import PluginHost
    from hub_core.runtime.state import RuntimeState

log = structlog.get_logger("hub_core.billing.manager")

MODE_KEY = "billing.mode"
SETTINGS_KEY = "billing.settings.{}"
NO_BILLING = "none"
SETTLE_ATTEMPTS = 4
#: longest pause between two tries of a deferred settlement (after SETTLE_ATTEMPTS failed)
LATE_RETRY_MAX = 5.0
#: deferred settlements kept in memory at most, and for at most this long; past either the sweeper closes
#: the hold (after the mode's hold time-out)
LATE_MAX = 100_000
LATE_MAX_AGE = 3600.0
#: seconds a settlement waits for its call's usage row to be written (at least 4 flush intervals)
LOG_WAIT = 5.0


def billable_usage(record: CallRecord, hold: Hold) -> Usage:
    """The usage a call is charged for (docs/billing.md, "Failed and aborted calls").

    A call that produced nothing (no output token, image or second) costs nothing, whatever its status.
    A call that produced something is charged for what it produced: the provider's numbers when it
    reported them; when it did not (a stream cut before its usage chunk), the output counted by the hub and
    the prompt estimated at four bytes a token. Output beyond what the request allowed (an upstream that
    ignored ``max_tokens`` or ``n``) is not charged.
    """
    usage = _within_limit(record, hold.output_limit)
    produced = usage.output_tokens > 0 or usage.images > 0 or usage.seconds > 0
    if not produced:
        if record.status == "success" and record.kind == "embedding":
            return usage  # embeddings produce no output tokens: the prompt is the work
        return Usage()
    if usage.input_tokens == 0 and hold.prompt_estimate:
        usage = Usage(
            input_tokens=hold.prompt_estimate,
            output_tokens=usage.output_tokens,
            cached_input_tokens=usage.cached_input_tokens,
            cache_write_tokens=usage.cache_write_tokens,
            reasoning_tokens=usage.reasoning_tokens,
            images=usage.images,
            seconds=usage.seconds,
        )
        record.extra["prompt_estimated"] = True
        record.extra["billed_input_tokens"] = hold.prompt_estimate  # the call log shows what was charged
    return usage


def _within_limit(record: CallRecord, limit: Usage | None) -> Usage:
    """The record's usage with its output cut to `limit` (in the unit the call's kind is bounded by)."""
    usage = record.usage
    if limit is None:
        return usage
    if record.kind == "chat" and usage.output_tokens > limit.output_tokens:
        capped = replace(usage, output_tokens=limit.output_tokens)
        capped.reasoning_tokens = min(capped.reasoning_tokens, limit.output_tokens)
    elif record.kind == "image" and usage.images > limit.images:
        capped = replace(usage, images=limit.images)
    elif record.kind == "video" and usage.seconds > limit.seconds:
        capped = replace(usage, seconds=limit.seconds)
    else:
        return usage
    record.extra["output_over_limit"] = True
    return capped


class BillingManager:
    """The active billing mode and the rates, as the gateway and the APIs use them."""

    def __init__(self, settings: Settings, host: PluginHost, state: RuntimeState) -> None:
        self.settings = settings
        self.host = host
        self.state = state
        self.rates = RateBook()
        self.mode_name: str | None = None
        self._loaded_generation: object = object()
        self._lock = asyncio.Lock()
        self._started = False
        #: settlements that failed while the database was away, oldest first, by call id (`_settle_late`)
        self._late: dict[str, _Deferred] = {}
        self._late_task: asyncio.Task[None] | None = None
        #: prefix of this process's call ids (hub_core.runtime.instance), so that the next run can close the
        #: holds it leaves open if it dies; "" when the hub has no slot (then nothing is recovered)
        self.call_prefix = ""
        self.started_at = datetime.now(UTC)
        # registration is over when the gateway is built: the set of modes is fixed from here on
        self._modes = {n: b for n, b in host.billing_modes.items() if isinstance(b, BillingMode)}
        for mode in self._modes.values():
            mode.manager = self

    # --- configuration --------------------------------------------------------------------------------

    @property
    def payment_providers(self) -> Mapping[str, PaymentProvider]:
        """The payment providers of enabled plugins, by name."""
        host = self.host
        return {
            n: p for n, p in host.payment_providers.items() if host.is_enabled(host.payment_owner.get(n, ""))
        }

    async def logged_credits(self, request_id: str, call_id: str) -> int | None:
        """`BillingHost.logged_credits`: what the usage row of the billed call says it cost."""
        rows = await m.ModelCall.filter(request_id=request_id).limit(50).values("credits", "metadata")
        for row in rows:
            if (row["metadata"] or {}).get("billing_call_id") == call_id:
                return int(row["credits"] or 0)
        return None

    @property
    def modes(self) -> dict[str, BillingMode]:
        """The registered modes that implement the `BillingMode` contract."""
        return self._modes

    async def refresh(self, force: bool = False) -> None:
        """Reload the mode choice, mode settings and rates when the configuration generation changed."""
        if not force and self._loaded_generation == self.state.generation:
            return
        async with self._lock:
            generation = self.state.generation
            if not force and self._loaded_generation == generation:
                return
            rows = await m.HubState.filter(key__startswith="billing.")
            values = {row.key: row.value for row in rows}
            await self.rates.load()
            for name, mode in self.modes.items():
                mode.configure(_json_object(values.get(SETTINGS_KEY.format(name))))
            self.mode_name = values.get(MODE_KEY) or self._default_mode()
            self._loaded_generation = generation

    def _default_mode(self) -> str:
        return "free" if "free" in self.modes else NO_BILLING

    def active(self) -> BillingMode | None:
        """The active mode, None without billing. Fails closed when the chosen mode's plugin is gone."""
        name = self.mode_name
        if name in (None, NO_BILLING):
            return None
        mode = self.modes.get(name)
        owner = self.host.billing_owner.get(name or "")
        if mode is None or not self.host.is_enabled(owner or ""):
            raise HubError(
                503,
                "billing_unavailable",
                f"Billing mode {name!r} is selected but its plugin is not installed or is disabled; "
                "enable it or choose another mode (`aigne-hub billing mode`)",
            )
        return mode

    def offers(self, provider: str, model: str, kind: str) -> bool:
        """Whether the model lists show this model: always, unless the active mode requires a rate and the
        model has none (calling it would be refused)."""
        try:
            mode = self.active()
        except HubError:
            return True
        if mode is None or not mode.requires_rate():
            return True
        return self.rates.lookup(provider, model, kind) is not None

    @property
    def charges(self) -> bool:
        try:
            mode = self.active()
        except HubError:
            return False
        return bool(mode and mode.charges)

    @property
    def credit_prefix(self) -> str:
        mode = self._safe_active()
        return str(mode.settings.get("credit_prefix", "")) if mode else ""

    def _safe_active(self) -> BillingMode | None:
        try:
            return self.active()
        except HubError:
            return None

    async def start(self) -> None:
        await self.refresh(force=True)
        for mode in self.modes.values():
            try:
                await mode.start()
            except Exception as exc:
                log.error("billing mode failed to start", mode=mode.name, error=str(exc))
        self._started = True
        if self.call_prefix:
            await self.recover()

    async def recover(self) -> None:
        """Close the holds an earlier run in this slot left open when it died (`BillingMode.recover`)."""
        for mode in self.modes.values():
            try:
                closed = await mode.recover(self.call_prefix, self.started_at)
            except Exception as exc:
                log.error("billing recovery failed", mode=mode.name, error=f"{type(exc).__name__}: {exc}")
                continue
            if closed:
                log.warning("closed holds left open by an earlier run", mode=mode.name, holds=closed)

    async def stop(self) -> None:
        if self._late_task is not None:
            self._late_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._late_task
            self._late_task = None
        if self._late:  # the next start in this slot closes their holds (`recover`), or the sweeper does
            log.warning("stopping with settlements still deferred", calls=len(self._late))
            for late in self._late.values():
                if late.logged is not None:
                    late.logged.cancel()
            self._late.clear()
        if not self._started:
            return
        for mode in self.modes.values():
            try:
                await mode.stop()
            except Exception as exc:
                log.error("billing mode failed to stop", mode=mode.name, error=str(exc))
        self._started = False

    # --- the call pipeline ----------------------------------------------------------------------------

    async def admit(
        self, caller: Caller, rec: CallRecord, payload: dict[str, Any], base_url_of: Callable[[], str] = str
    ) -> Hold | None:
        """Before the upstream call: ask the active mode; it may reserve credits (the `Hold` returned, which
        the caller must settle) or refuse the call (`HubError`). None when nothing is held."""
        try:
            if self._loaded_generation != self.state.generation:  # (what `refresh` checks first)
                await self.refresh()
        except Exception as exc:  # the database is down: keep the last known configuration if there is one
            if self.mode_name is None:
                raise HubError(503, "billing_unavailable", "Billing is temporarily unavailable") from exc
            log.warning("billing configuration reload failed", error=str(exc))
        mode = self.active()
        if mode is None:
            return None
        call = BillingCall(
            call_id=self.call_prefix + random_id()[: 32 - len(self.call_prefix)],
            request_id=rec.request_id,
            caller=caller,
            kind=rec.kind,
            provider=rec.provider or "",
            model=rec.upstream_model or rec.model,
            payload=payload,
            rate=self.rates.lookup(rec.provider, rec.upstream_model, rec.kind),
            base_url_of=base_url_of,
        )
        try:
            hold = await mode.admit(call)
        except HubError:
            raise
        except Exception as exc:
            log.error("billing admission failed", mode=mode.name, error=f"{type(exc).__name__}: {exc}")
            # the database may have committed the reservation and lost the answer (the connection dropped
            # or timed out during the commit): release it once the database answers, for nothing, instead
            # of leaving it held until the sweeper's time-out (`BillingMode.settle` with cost 0)
            self._defer(Hold(call.call_id, caller.user_id, mode=mode.name), 0, rec, None)
            raise HubError(503, "billing_unavailable", "Billing is temporarily unavailable") from exc
        if hold is not None:
            hold.mode = mode.name
            rec.extra["billing_call_id"] = hold.call_id
            if not hold.prompt_estimate:
                hold.prompt_estimate = fair_prompt_tokens(payload, rec.kind)
            if rec.kind in ("chat", "image", "video") and call.output_limited():
                hold.output_limit = requested_output(payload, rec.kind, 0)
        return hold

    def price(self, hold: Hold | None, rec: CallRecord) -> None:
        """When the call ends (synchronously, in `Gateway.finish`): its cost onto the record."""
        mode = self.modes.get(hold.mode) if hold is not None else None
        if hold is None or mode is None:
            return
        try:
            cost = mode.quote(hold, billable_usage(rec, hold), rec.kind)
        except Exception as exc:
            log.error("billing quote failed", mode=mode.name, error=str(exc))
            cost = None
        if cost is not None:
            rec.extra["credits"] = credits_str(cost)

    async def settle(
        self, hold: Hold | None, rec: CallRecord, logged: asyncio.Future[bool] | None = None
    ) -> None:
        """After the call (off the response path, also after a disconnect): charge and release, retrying a
        few times when the database is briefly unavailable, then once it answers again (`_defer`). Never
        raises.

        `logged` resolves when the call's usage row is written: the charge waits for it (at most
        `LOG_WAIT` seconds), so a crash can leave a row without its charge, which the next start charges
        from the row (`recover`), but never a charge without its row."""
        if hold is None:
            return
        deferred = False
        try:
            await self._row_first(logged)
            cost = to_units(rec.extra["credits"]) if "credits" in rec.extra else None
            for attempt in range(SETTLE_ATTEMPTS):
                try:
                    await self._settle_once(hold, cost, rec)
                    return
                except Exception as exc:
                    log.warning(
                        "settlement failed", call_id=hold.call_id, attempt=attempt + 1, error=str(exc)
                    )
                    if attempt + 1 < SETTLE_ATTEMPTS:
                        await asyncio.sleep(0.2 * 2**attempt)
            deferred = self._defer(hold, cost, rec, logged)
        finally:
            if logged is not None and not deferred:
                logged.cancel()  # stop watching the row

    async def _row_first(self, logged: asyncio.Future[bool] | None) -> None:
        """Wait (a while) until the call's usage row is written: the charge comes after it."""
        if logged is not None and not logged.done():
            # on a time-out the database is away: settling fails too, and is retried
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    asyncio.shield(logged), max(LOG_WAIT, 4 * self.settings.usage_flush_interval)
                )

    def _defer(
        self, hold: Hold, cost: int | None, rec: CallRecord, logged: asyncio.Future[bool] | None
    ) -> bool:
        """The database is away longer than the settlement's tries: settle once it answers again, from one
        background task (not one per call, all knocking at once), instead of leaving the hold reserved until
        the sweeper's time-out (hours). `drain` does not wait for it, so a hub can stop while the database is
        away (the next start in its slot, or the sweeper, settles then); settling is idempotent per call.
        False when too many are deferred already (the sweeper settles this one)."""
        if len(self._late) >= LATE_MAX:
            log.error("too many deferred settlements; the sweeper settles this hold", call_id=hold.call_id)
            return False
        if not self._late:
            log.warning("settlement deferred until the database answers", call_id=hold.call_id)
        self._late[hold.call_id] = _Deferred(hold, cost, rec, logged, time.monotonic())
        if self._late_task is None or self._late_task.done():
            self._late_task = asyncio.create_task(self._settle_late(), name="deferred-settlement")
        return True

    async def _settle_late(self) -> None:
        """Settle the deferred calls oldest first. One that fails goes to the back of the line, and the next
        try waits (doubling, at most `LATE_RETRY_MAX` seconds) while the database refuses; one deferred for
        longer than `LATE_MAX_AGE` is left to the sweeper."""
        delay, settled = 0.5, 0
        while self._late:
            call_id, late = next(iter(self._late.items()))
            if time.monotonic() - late.since > LATE_MAX_AGE:
                log.error("deferred settlement given up; the sweeper settles the hold", call_id=call_id)
                self._late.pop(call_id, None)
                continue
            await self._row_first(late.logged)
            try:
                await self._settle_once(late.hold, late.cost, late.rec)
            except Exception:
                if self._late.pop(call_id, None) is not None:
                    self._late[call_id] = late
                await asyncio.sleep(delay)
                delay = min(2 * delay, LATE_RETRY_MAX)
                continue
            self._late.pop(call_id, None)
            if late.logged is not None:
                late.logged.cancel()
            delay, settled = 0.5, settled + 1
        log.warning("deferred settlements made", calls=settled)

    async def _settle_once(self, hold: Hold, cost: int | None, rec: CallRecord) -> None:
        """Charge `cost` and release the hold with its mode (raises when the database is away); when the
        charge was less than the cost (the balance ran out), say so in the usage row."""
        mode = self.modes.get(hold.mode)
        if mode is None:
            log.error("billing mode vanished before settlement; hold left to expire", call_id=hold.call_id)
            return
        charged = await mode.settle(hold, cost, rec)
        if cost is not None and charged is not None and charged != cost:
            rec.extra["credits"] = credits_str(charged)
            rec.extra["credits_uncharged"] = credits_str(cost - charged)
            try:  # the row was written with the price before the charge: say what was really charged
                await amend_credits(rec)
            except Exception as exc:
                log.warning(
                    "usage row not amended", call_id=hold.call_id, error=f"{type(exc).__name__}: {exc}"
                )

    def credits_for(self, hold: Hold | None, rec: CallRecord) -> Decimal | None:
        """The cost of a call so far (for a dialect that reports it inside a stream before the call ends):
        None unless the active mode charges."""
        if "credits" in rec.extra:
            return Decimal(rec.extra["credits"])
        mode = self.modes.get(hold.mode) if hold is not None else None
        if hold is None or mode is None or not mode.charges:
            return None
        cost = mode.quote(hold, billable_usage(rec, hold), rec.kind)
        return None if cost is None else from_units(cost)

    def cost_headers(self, rec: CallRecord) -> dict[str, str]:
        credits = rec.extra.get("credits")
        if credits is None:
            return {}
        return {CREDITS_HEADER: str(credits)}

    # --- what other parts of the hub show -------------------------------------------------------------

    async def user_credit_info(self, caller: Caller, base_url: str = "") -> dict[str, Any]:
        """The credit fields of ``GET /api/user/info``: numbers as decimal strings, nulls without credits."""
        await self.refresh()
        mode = self._safe_active()
        if mode is None or not mode.charges:
            return {
                "creditBalance": None,
                "paymentLink": None,
                "currency": None,
                "enableCredit": False,
                "creditPrefix": "",
            }
        figures = await mode.account(caller) or {}
        grants = int(figures.get("grant_count", 0))
        return {
            "creditBalance": {
                "balance": credits_str(int(figures.get("balance", 0)) - int(figures.get("held", 0))),
                "total": credits_str(int(figures.get("credited", 0))),
                "grantCount": grants,
                "pendingCredit": credits_str(int(figures.get("held", 0))),
            },
            "paymentLink": mode.payment_link(base_url),
            "currency": mode.settings.get("currency") or None,
            "enableCredit": True,
            "creditPrefix": self.credit_prefix,
        }

    async def status(self, caller: Caller, base_url: str = "") -> dict[str, Any] | None:
        """For ``GET /api/v2/status``: None when the caller may call, else the original hub's error fields
        (``{"available": false, "error", "code": 402, "type": "NOT_ENOUGH", "link"}``)."""
        await self.refresh()
        try:
            mode = self.active()
            err = await mode.availability(caller, base_url) if mode is not None else None
        except HubError as exc:
            err = exc
        if err is None:
            return None
        out: dict[str, Any] = {"available": False, "error": err.message, "code": err.status}
        if "aigne_type" in err.extra:
            out["type"] = err.extra["aigne_type"]
        if err.extra.get("link"):
            out["link"] = err.extra["link"]
        return out

    async def set_mode(self, name: str, *, actor: audit.Actor | None = None) -> str:
        """Choose the active mode (``none`` turns billing off). The caller bumps the generation."""
        if name != NO_BILLING and name not in self.modes:
            known = ", ".join(sorted(self.modes)) or "none installed"
            raise HubError(
                400, "unknown_billing_mode", f"Unknown billing mode {name!r} (modes: {known}, none)"
            )
        row = await m.HubState.get_or_none(key=MODE_KEY)
        before = row.value if row is not None else self.mode_name or self._default_mode()
        await _put_state(MODE_KEY, name)
        await audit.record(
            actor, "billing.mode", "billing", MODE_KEY, before={"mode": before}, after={"mode": name}
        )
        return name

    async def update_settings(
        self, name: str, changes: Mapping[str, Any], *, actor: audit.Actor | None = None
    ) -> dict[str, Any]:
        mode = self.modes.get(name)
        if mode is None:
            raise HubError(404, "unknown_billing_mode", f"Unknown billing mode {name!r}")
        clean = mode.validate_settings(changes)
        row = await m.HubState.get_or_none(key=SETTINGS_KEY.format(name))
        before = _json_object(row.value if row else None)
        stored = {**before, **clean}
        await _put_state(SETTINGS_KEY.format(name), json.dumps(stored))
        await audit.record(actor, "billing.settings", "billing_mode", name, before=before, after=stored)
        mode.configure(stored)
        return mode.settings

    def describe(self) -> dict[str, Any]:
        modes = []
        for name, mode in sorted(self.modes.items()):
            owner = self.host.billing_owner.get(name, "")
            modes.append({**mode.describe(), "plugin": owner, "pluginEnabled": self.host.is_enabled(owner)})
        return {"active": self.mode_name or NO_BILLING, "modes": modes, "rates": len(self.rates)}


@dataclass
class _Deferred:
    """A settlement waiting for the database (`BillingManager._defer`)."""

    hold: Hold
    cost: int | None
    rec: CallRecord
    logged: asyncio.Future[bool] | None
    since: float  # time.monotonic() when it was deferred


def _json_object(text: str | None) -> dict[str, Any]:
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


async def _put_state(key: str, value: str) -> None:
    if not await m.HubState.filter(key=key).update(value=value):
        await m.HubState.update_or_create(key=key, defaults={"value": value})
