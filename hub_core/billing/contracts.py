"""The billing contracts: `BillingMode` (free, credits ...), `PaymentProvider`, and what they exchange with
the hub (`BillingCall`, `Hold`, `PaymentEvent`). A billing plugin subclasses these; `hub_core.billing.manager`
runs the active mode around every call.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar, Protocol

from hub_core.billing.pricing import (
    OUTPUT_LIMIT_KEYS,
    Rate,
    cost_of,
    requested_output,
    to_units,
    worst_case_prompt_tokens,
)
from hub_core.errors import HubError
from hub_core.types import Caller, CallRecord, Usage

CREDITS_HEADER = "x-aigne-hub-credits"
PAYMENT_LINK_HEADER = "x-aigne-hub-payment-link"


class BillingHost(Protocol):
    """What a billing mode may use of the hub's billing manager (``mode.manager``)."""

    @property
    def mode_name(self) -> str | None:
        """The active billing mode's name (None before the configuration is first loaded)."""
        ...

    @property
    def payment_providers(self) -> Mapping[str, PaymentProvider]:
        """The registered payment providers of enabled plugins, by name."""
        ...

    async def refresh(self, force: bool = False) -> None:
        """Reload the mode choice, settings and rates when the configuration changed."""
        ...

    async def logged_credits(self, request_id: str, call_id: str) -> int | None:
        """The credits (units) the usage log recorded for billed call `call_id` of request `request_id`,
        or None when the log has no row for it (to settle a hold its hub left open)."""
        ...


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

    #: gives the hub's public base URL as this request sees it (for payment links); "" outside a request
    base_url_of: Callable[[], str] = str

    @property
    def base_url(self) -> str:
        """The hub's public base URL as this request sees it (for payment links); "" outside a request."""
        return self.base_url_of()

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
    #: the most output the request asked for (`max_tokens`, `n` images, seconds), set by the manager when
    #: the request bounds its output: an upstream that ignores the bound is not paid for the excess
    output_limit: Usage | None = None


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
        self.manager: BillingHost | None = None

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
        Must be idempotent per ``hold.call_id``. Also called with cost 0 for a call whose `admit` raised
        something other than `HubError` (the database went away while it reserved, so the reservation may
        have been committed): release whatever was reserved for ``hold.call_id``, if anything."""
        return cost

    async def recover(self, call_id_prefix: str, started_before: datetime) -> int:
        """At start-up, after the usage log re-imported what it spilled: close what an earlier run of this
        hub process left open when it died (kill -9, power loss), i.e. the holds of calls whose id starts
        with `call_id_prefix` and that began before `started_before`. No living process owns such a call.
        A call the usage log recorded is charged what it recorded (the row is written before the charge,
        so a charge never lacks its row); a call it never recorded is released free. Returns how many
        were closed. Must be idempotent; the default holds nothing, so it has nothing to close."""
        return 0

    async def account(self, caller: Caller) -> dict[str, Any] | None:
        """The caller's credit figures (units): ``balance``, ``held``, ``credited``, ``debited`` or None."""
        return None

    def requires_rate(self) -> bool:
        """Whether a model must have a rate to be called. While the active mode says so, the model lists
        (``/v1/models``, the public catalogue, hence the console's pricing page and playground) leave
        unrated models out instead of offering calls that would be refused."""
        return False

    async def availability(self, caller: Caller, base_url: str = "") -> HubError | None:
        """Why the caller could not make a call right now (out of credits), or None. `base_url` is the hub's
        public base URL as the request sees it, for a payment link ("" outside a request)."""
        return None

    def payment_link(self, base_url: str) -> str | None:
        return None

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
