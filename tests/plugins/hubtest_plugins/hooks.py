"""A plugin that implements every hook (most of them ``async def``) to test the hook contract end to end.

It is configured the way a real plugin is, through the hub's settings (``settings.extra``, read in
``on_startup``), and reacts to what a request carries:

- auth: header ``x-hubtest-caller: <name>`` authenticates a member called <name>; ``deny`` refuses with a
  ``HubError`` 403; ``boom`` raises a plain exception (auth fails closed).
- routing: ``alias/<model>`` goes to this plugin's provider ``hubtest`` with the plugin's own credential;
  ``openai/pinned`` is taken from the default routing and sent to ``hubtest`` as ``gpt-4o-mini``;
  ``alias/route-boom`` raises.
- credential injection: every upstream request is tagged ``x-hubtest-caller``; upstream model
  ``prepare-boom`` raises.
- normalization: non-streaming chat answers from ``hubtest`` are upper-cased; model ``normalizer-boom``
  raises.
- observers: finished calls, startup and shutdown are appended to `EVENTS`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from quart import Blueprint, Request

from hub_core import (
    Caller,
    CallRecord,
    Credential,
    HubError,
    NormalizedResponse,
    Normalizer,
    OpenAICompatibleProvider,
    Provider,
    Route,
    UpstreamRequest,
    hookimpl,
)
from hub_core.billing import BillingCall, BillingMode, Hold, PaymentEvent, PaymentProvider
from hub_core.config import Settings

EVENTS: list[tuple[str, Any]] = []
CONFIG: dict[str, str] = {}
HEADER_CALLER = "x-hubtest-caller"


def reset() -> None:
    EVENTS.clear()
    CONFIG.clear()


def events(kind: str) -> list[Any]:
    return [payload for k, payload in EVENTS if k == kind]


class HubTestProvider(OpenAICompatibleProvider):
    name = "hubtest"
    display_name = "Hub Test"
    default_base_url = "http://127.0.0.1:9/v1"
    extra_headers = {"x-hubtest-provider": "hubtest"}
    known_models = {"chat": ("gpt-4o-mini",)}


class FlatBilling(BillingMode):
    """A billing mode that lets every call through (it is never made the active mode in these tests)."""

    name = "hubtest-flat"
    display_name = "Hub Test flat rate"

    async def admit(self, call: BillingCall) -> Hold | None:
        return None


class HubTestPayments(PaymentProvider):
    """A payment provider whose webhooks never credit anything."""

    name = "hubtest-pay"
    display_name = "Hub Test payments"

    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> PaymentEvent | None:
        return None


PROVIDER = HubTestProvider()


class ShoutingNormalizer(Normalizer):
    """Wraps the provider's own normalizer and upper-cases the answer."""

    def __init__(self, inner: Normalizer) -> None:
        super().__init__()
        self.inner = inner

    def parse(self, body: bytes) -> NormalizedResponse:
        result = self.inner.parse(body)
        data = result.json()
        for choice in data.get("choices", []):
            message = choice.get("message") or {}
            if isinstance(message.get("content"), str):
                message["content"] = message["content"].upper()
        self.usage, self.saw_usage = self.inner.usage, self.inner.saw_usage
        return NormalizedResponse(data, result.usage)  # no raw bytes: the body changed


# --- registration ---------------------------------------------------------------------------------------


@hookimpl
def register_providers(register: Callable[[Provider], None]) -> None:
    register(PROVIDER)


@hookimpl
def register_billing_modes(register: Callable[[BillingMode], None]) -> None:
    register(FlatBilling())


@hookimpl
def register_payment_providers(register: Callable[[PaymentProvider], None]) -> None:
    register(HubTestPayments())


@hookimpl
def register_routes(register: Callable[[Blueprint], None]) -> None:
    bp = Blueprint("hubtest", __name__, url_prefix="/hubtest")

    @bp.get("/ping")
    async def ping() -> dict[str, Any]:
        return {"pong": True, "plugin": "hubtest_hooks"}

    register(bp)


# --- request pipeline -----------------------------------------------------------------------------------


@hookimpl
async def auth_from_request(request: Request, settings: Settings) -> Caller | None:
    name = request.headers.get(HEADER_CALLER)
    if name is None:
        return None
    if name == "boom":
        raise RuntimeError("hubtest auth backend is down")
    if name == "deny":
        raise HubError(403, "hubtest_denied", "Denied by the hubtest plugin")
    return Caller(9001, "zhubtest", name, "member", None, "hubtest-header")


@hookimpl
async def select_route(model: str, kind: str, caller: Caller) -> Route | None:
    if model == "alias/route-boom":
        raise RuntimeError("hubtest routing table is corrupt")
    if model.startswith("alias/"):
        return _route(model.removeprefix("alias/"))
    if model == "openai/pinned":
        return _route("gpt-4o-mini")
    return None


def _route(upstream_model: str) -> Route:
    credential = Credential(None, "hubtest-own", {"api_key": CONFIG.get("api_key", "")}, "env")
    return Route(
        PROVIDER, PROVIDER.name, upstream_model, CONFIG.get("base_url", PROVIDER.default_base_url), credential
    )


@hookimpl
async def prepare_upstream_request(upstream: UpstreamRequest, route: Route, caller: Caller) -> None:
    if route.model == "prepare-boom":
        raise RuntimeError("hubtest could not sign the request")
    upstream.headers[HEADER_CALLER] = caller.name


@hookimpl
async def select_normalizer(
    route: Route, kind: str, stream: bool, payload: dict[str, Any]
) -> Normalizer | None:
    if route.model == "normalizer-boom":
        raise RuntimeError("hubtest normalizer factory failed")
    if route.provider_name == PROVIDER.name and kind == "chat" and not stream:
        return ShoutingNormalizer(route.provider.normalizer(kind, stream, route, payload))
    return None


# --- observers ------------------------------------------------------------------------------------------


@hookimpl
async def on_call_finished(record: CallRecord) -> None:
    EVENTS.append(("call", record))


@hookimpl
async def on_startup(settings: Settings) -> None:
    CONFIG["base_url"] = settings.extra.get("hubtest_base_url", PROVIDER.default_base_url)
    CONFIG["api_key"] = settings.extra.get("hubtest_api_key", "")
    EVENTS.append(("startup", settings.data_dir))


@hookimpl
def on_shutdown(settings: Settings) -> None:
    EVENTS.append(("shutdown", settings.data_dir))
