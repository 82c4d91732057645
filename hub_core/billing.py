"""Billing: the `BillingMode` contract billing plugins implement, and the `BillingManager` the gateway calls
around every upstream call: admission (a hold for the worst case) before, settlement (the real cost) after.

The admin picks the active mode (``aigne-hub billing mode NAME`` or ``PUT /api/admin/billing``); the choice
and each mode's settings live in ``hub_state`` and reach every instance with the configuration generation.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar

import structlog

from hub_core.db import models as m
from hub_core.errors import HubError
from hub_core.rates import (
    OUTPUT_LIMIT_KEYS,
    Rate,
    RateBook,
    cost_of,
    credits_str,
    fair_prompt_tokens,
    from_units,
    requested_output,
    to_units,
    worst_case_prompt_tokens,
)
from hub_core.request_scope import current_request
from hub_core.types import Usage, random_id

if TYPE_CHECKING:
    import click

    from hub_core.config import Settings
    from hub_core.gateway import CallContext
    from hub_core.plugins import PluginHost
    from hub_core.state import RuntimeState
    from hub_core.types import Caller, CallRecord

log = structlog.get_logger("hub_core.billing")

MODE_KEY = "billing.mode"
SETTINGS_KEY = "billing.settings.{}"
NO_BILLING = "none"
CREDITS_HEADER = "x-aigne-hub-credits"
PAYMENT_LINK_HEADER = "x-aigne-hub-payment-link"
SETTLE_ATTEMPTS = 4

__all__ = [
    "CREDITS_HEADER",
    "BillingCall",
    "BillingManager",
    "BillingMode",
    "Hold",
    "PaymentEvent",
    "PaymentProvider",
    "from_units",
    "to_units",
]


@dataclass(slots=True)
class BillingCall:
    """What a mode sees at admission: who calls what, the rate (None when the model has none), estimates."""

    call_id: str
    request_id: str
    caller: Caller
    kind: str
    provider: str
    model: str
    payload: dict[str, Any]
    rate: Rate | None

    @property
    def base_url(self) -> str:
        """The hub's public base URL as this request sees it (for payment links)."""
        return request_base_url()

    def worst_case(self, default_output_tokens: int) -> Usage:
        """The largest usage this request can produce (prompt estimated high, output at its limit)."""
        usage = requested_output(self.payload, self.kind, default_output_tokens)
        usage.input_tokens = worst_case_prompt_tokens(self.payload, self.kind)
        return usage

    def output_limited(self) -> bool:
        """Whether the request bounds its own output (a chat ``max_tokens``; images and videos always)."""
        return self.kind != "chat" or any(
            isinstance(self.payload.get(k), int) and self.payload[k] > 0 for k in OUTPUT_LIMIT_KEYS
        )

    def worst_case_units(self, default_output_tokens: int) -> int:
        if self.rate is None:
            return 0
        return to_units(cost_of(self.worst_case(default_output_tokens), self.rate, self.kind))


@dataclass(slots=True)
class Hold:
    """A mode's admission of one call: the credits reserved (units; 0 when nothing is reserved)."""

    call_id: str
    user_id: int
    amount: int = 0
    rate: Rate | None = None
    prompt_estimate: int = 0
    data: dict[str, Any] = field(default_factory=dict)
    mode: str = ""  # set by the manager: the mode that admitted the call settles it


class BillingMode:
    """Base class of a billing mode. A plugin registers an instance per hub from ``register_billing_modes``.

    The manager calls `admit` before the upstream call (raise `HubError` to refuse: 402 ``NOT_ENOUGH`` via
    `not_enough`, 400 for an unsupported model), `quote` when the call ends (pure, no I/O: its result is the
    call's cost, shown to the client) and then `settle` off the response path (charge, release the rest),
    exactly once per admitted call, also when the client disconnected.
    """

    name: ClassVar[str] = ""
    display_name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    #: whether calls cost the caller credits (responses then carry the cost)
    charges: ClassVar[bool] = False
    #: JSON schema of the admin settings (shown by the API and the console)
    settings_schema: ClassVar[dict[str, Any]] = {"type": "object", "properties": {}}
    defaults: ClassVar[dict[str, Any]] = {}

    def __init__(self) -> None:
        self.settings: dict[str, Any] = dict(self.defaults)
        self.manager: BillingManager | None = None

    def configure(self, settings: Mapping[str, Any]) -> None:
        """Apply stored settings (called on every configuration reload)."""
        self.settings = {**self.defaults, **{k: v for k, v in settings.items() if k in self.defaults}}

    def validate_settings(self, changes: Mapping[str, Any]) -> dict[str, Any]:
        """Check an admin's changes; return the cleaned values. Raise `HubError` 400 on a bad value."""
        unknown = sorted(set(changes) - set(self.defaults))
        if unknown:
            raise HubError(
                400, "invalid_setting", f"Unknown setting(s) for {self.name}: {', '.join(unknown)}"
            )
        return dict(changes)

    async def start(self) -> None:
        """The hub started (database ready). Start background work here."""

    async def stop(self) -> None:
        """The hub is stopping. Stop background work here."""

    async def admit(self, call: BillingCall) -> Hold | None:
        raise NotImplementedError

    def quote(self, hold: Hold, usage: Usage, kind: str) -> int | None:
        """The cost in units of a finished call's billable usage, or None when this mode does not price."""
        if hold.rate is None:
            return None
        return to_units(cost_of(usage, hold.rate, kind))

    async def settle(self, hold: Hold, cost: int | None, record: CallRecord) -> int | None:
        """Charge `cost` (units) and release the rest of the hold; return the units actually charged.
        Must be idempotent per ``hold.call_id``."""
        return cost

    async def account(self, caller: Caller) -> dict[str, Any] | None:
        """The caller's credit figures (units): ``balance``, ``held``, ``credited``, ``debited`` or None."""
        return None

    async def availability(self, caller: Caller) -> HubError | None:
        """Why the caller could not make a call right now (out of credits), or None."""
        return None

    def payment_link(self, base_url: str) -> str | None:
        return None

    def cli_commands(self) -> list[click.Command]:
        """Extra ``aigne-hub billing ...`` commands of this mode."""
        return []

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "displayName": self.display_name or self.name,
            "description": self.description,
            "charges": self.charges,
            "settingsSchema": self.settings_schema,
            "settings": self.settings,
        }


@dataclass(slots=True)
class PaymentEvent:
    """A verified payment: credit `credits` to the user, once per (provider, ``event_id``)."""

    event_id: str
    credits: Decimal
    user_id: int | None = None
    user_did: str | None = None
    reason: str = "top-up"
    expires_in_days: float | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


class PaymentProvider:
    """Base class of a payment plugin (registered from ``register_payment_providers``).

    The credits mode serves ``POST /api/billing/payments/<name>/webhook``: it hands the raw request to
    `verify_webhook`, which checks the signature and returns the `PaymentEvent` to credit (None for events
    that credit nothing). Raise `HubError` (400/401) for a forged or malformed request.
    """

    name: ClassVar[str] = ""
    display_name: ClassVar[str] = ""

    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> PaymentEvent | None:
        raise NotImplementedError

    def checkout_link(self, base_url: str, caller: Caller | None) -> str | None:
        """Where a user buys credits (used as the 402 payment link when the admin set none)."""
        return None


def not_enough(link: str | None, message: str | None = None) -> HubError:
    """402 with type ``NOT_ENOUGH`` and the payment link, rendered by every dialect."""
    text = (
        message
        or "Hello, in order to continue using AI services, please first buy some credits in the link below."
    )
    if link:
        text = f"{text} {link}"
    return HubError(
        402,
        "insufficient_credits",
        text,
        type="NOT_ENOUGH",
        headers={PAYMENT_LINK_HEADER: link} if link else None,
        extra={"aigne_type": "NOT_ENOUGH", "link": link} if link else {"aigne_type": "NOT_ENOUGH"},
    )


def billable_usage(record: CallRecord, hold: Hold) -> Usage:
    """The usage a call is charged for (docs/billing.md, "Failed and aborted calls").

    A call that produced nothing (no output token, image or second) costs nothing, whatever its status.
    A call that produced something is charged for what it produced: the provider's numbers when it
    reported them; when it did not (a stream cut before its usage chunk), the output counted by the hub and
    the prompt estimated at four bytes a token.
    """
    usage = record.usage
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
    return usage


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
        # registration is over when the gateway is built: the set of modes is fixed from here on
        self._modes = {n: b for n, b in host.billing_modes.items() if isinstance(b, BillingMode)}
        for mode in self._modes.values():
            mode.manager = self

    # --- configuration --------------------------------------------------------------------------------

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

    async def stop(self) -> None:
        if not self._started:
            return
        for mode in self.modes.values():
            try:
                await mode.stop()
            except Exception as exc:
                log.error("billing mode failed to stop", mode=mode.name, error=str(exc))
        self._started = False

    # --- the call pipeline ----------------------------------------------------------------------------

    async def admit(self, ctx: CallContext, payload: dict[str, Any]) -> None:
        """Before the upstream call: ask the active mode; it may reserve credits or refuse the call."""
        try:
            if self._loaded_generation != self.state.generation:  # (what `refresh` checks first)
                await self.refresh()
        except Exception as exc:  # the database is down: keep the last known configuration if there is one
            if self.mode_name is None:
                raise HubError(503, "billing_unavailable", "Billing is temporarily unavailable") from exc
            log.warning("billing configuration reload failed", error=str(exc))
        mode = self.active()
        if mode is None:
            return
        rec = ctx.record
        call = BillingCall(
            call_id=random_id(),
            request_id=rec.request_id,
            caller=ctx.caller,
            kind=rec.kind,
            provider=rec.provider or "",
            model=rec.upstream_model or rec.model,
            payload=payload,
            rate=self.rates.lookup(rec.provider, rec.upstream_model, rec.kind),
        )
        try:
            hold = await mode.admit(call)
        except HubError:
            raise
        except Exception as exc:
            log.error("billing admission failed", mode=mode.name, error=f"{type(exc).__name__}: {exc}")
            raise HubError(503, "billing_unavailable", "Billing is temporarily unavailable") from exc
        if hold is not None:
            ctx.hold = hold  # first: whatever happens next, finish() settles it
            hold.mode = mode.name
            rec.extra["billing_call_id"] = hold.call_id
            _remember_call(ctx)
            if not hold.prompt_estimate:
                hold.prompt_estimate = fair_prompt_tokens(payload, rec.kind)

    def price(self, ctx: CallContext) -> None:
        """When the call ends (synchronously, in `Gateway.finish`): its cost onto the record."""
        hold = ctx.hold
        mode = self.modes.get(hold.mode) if hold is not None else None
        if hold is None or mode is None:
            return
        rec = ctx.record
        try:
            cost = mode.quote(hold, billable_usage(rec, hold), rec.kind)
        except Exception as exc:
            log.error("billing quote failed", mode=mode.name, error=str(exc))
            cost = None
        if cost is not None:
            rec.extra["credits"] = credits_str(cost)

    async def settle(self, ctx: CallContext) -> None:
        """After the call (off the response path, also after a disconnect): charge and release, retrying a
        few times when the database is briefly unavailable. Never raises."""
        hold = ctx.hold
        if hold is None:
            return
        mode = self.modes.get(hold.mode)
        if mode is None:
            log.error("billing mode vanished before settlement; hold left to expire", call_id=hold.call_id)
            return
        rec = ctx.record
        cost = to_units(rec.extra["credits"]) if "credits" in rec.extra else None
        for attempt in range(SETTLE_ATTEMPTS):
            try:
                charged = await mode.settle(hold, cost, rec)
                break
            except Exception as exc:
                log.warning("settlement failed", call_id=hold.call_id, attempt=attempt + 1, error=str(exc))
                await asyncio.sleep(0.2 * 2**attempt)
        else:
            log.error(
                "settlement gave up; the sweeper settles the hold from the usage log", call_id=hold.call_id
            )
            return
        if cost is not None and charged is not None and charged != cost:
            rec.extra["credits"] = credits_str(charged)
            rec.extra["credits_uncharged"] = credits_str(cost - charged)

    def credits_for(self, ctx: CallContext) -> Decimal | None:
        """The cost of a call so far (for a dialect that reports it inside a stream before the call ends):
        None unless the active mode charges."""
        if "credits" in ctx.record.extra:
            return Decimal(ctx.record.extra["credits"])
        mode = self.modes.get(ctx.hold.mode) if ctx.hold is not None else None
        if ctx.hold is None or mode is None or not mode.charges:
            return None
        cost = mode.quote(ctx.hold, billable_usage(ctx.record, ctx.hold), ctx.record.kind)
        return None if cost is None else from_units(cost)

    def cost_headers(self, ctx: CallContext) -> dict[str, str]:
        credits = ctx.record.extra.get("credits")
        if credits is None:
            return {}
        return {CREDITS_HEADER: str(credits)}

    # --- what other parts of the hub show -------------------------------------------------------------

    async def user_credit_info(self, caller: Caller) -> dict[str, Any]:
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
            "paymentLink": mode.payment_link(request_base_url()),
            "currency": mode.settings.get("currency") or None,
            "enableCredit": True,
            "creditPrefix": self.credit_prefix,
        }

    async def status(self, caller: Caller) -> dict[str, Any] | None:
        """For ``GET /api/v2/status``: None when the caller may call, else the original hub's error fields
        (``{"available": false, "error", "code": 402, "type": "NOT_ENOUGH", "link"}``)."""
        await self.refresh()
        try:
            mode = self.active()
            err = await mode.availability(caller) if mode is not None else None
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

    async def set_mode(self, name: str) -> str:
        """Choose the active mode (``none`` turns billing off). The caller bumps the generation."""
        if name != NO_BILLING and name not in self.modes:
            known = ", ".join(sorted(self.modes)) or "none installed"
            raise HubError(
                400, "unknown_billing_mode", f"Unknown billing mode {name!r} (modes: {known}, none)"
            )
        await _put_state(MODE_KEY, name)
        return name

    async def update_settings(self, name: str, changes: Mapping[str, Any]) -> dict[str, Any]:
        mode = self.modes.get(name)
        if mode is None:
            raise HubError(404, "unknown_billing_mode", f"Unknown billing mode {name!r}")
        clean = mode.validate_settings(changes)
        row = await m.HubState.get_or_none(key=SETTINGS_KEY.format(name))
        stored = {**_json_object(row.value if row else None), **clean}
        await _put_state(SETTINGS_KEY.format(name), json.dumps(stored))
        mode.configure(stored)
        return mode.settings

    def describe(self) -> dict[str, Any]:
        modes = []
        for name, mode in sorted(self.modes.items()):
            owner = self.host.billing_owner.get(name, "")
            modes.append({**mode.describe(), "plugin": owner, "pluginEnabled": self.host.is_enabled(owner)})
        return {"active": self.mode_name or NO_BILLING, "modes": modes, "rates": len(self.rates)}


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


def request_base_url() -> str:
    """The hub's public base URL as the current request sees it (for payment links)."""
    from quart import has_request_context, request

    if not has_request_context():
        return ""
    from hub_core.api.common import current_hub

    return request.host_url.rstrip("/") + current_hub().settings.mount_path


def _remember_call(ctx: CallContext) -> None:
    """Keep the call with its HTTP request, for the cost header `HubHTTPConnection` adds to the answer."""
    info = current_request()
    if info is not None:
        info.call = ctx
