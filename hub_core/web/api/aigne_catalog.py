"""What AIGNE clients ask about the hub rather than of a model: the public model list (``/api/ai/models``,
``/api/ai-providers/models``), availability (``/api/v2/status``) and the caller (``/api/user/info``).

The shapes are the ones ``@aigne/aigne-hub`` validates with zod: rates as decimal strings, ``status`` an
object or null. Credit figures (rates, balances, refusals) come from the gateway's billing manager.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from quart import Blueprint, Response, request

from hub_core.db import models as m
from hub_core.errors import HubError, bad_request, model_not_found
from hub_core.types import Caller
from hub_core.web.api.common import aigne_error, as_hub_error, current_hub, json_response, request_base_url

if TYPE_CHECKING:
    from hub_core.hub import Hub

bp = Blueprint("aigne_catalog", __name__)

#: the ``type`` query values clients send (the original hub's names included) -> the hub's kinds
KIND_OF = {
    "chat": "chat",
    "chatCompletion": "chat",
    "image": "image",
    "image_generation": "image",
    "imageGeneration": "image",
    "embedding": "embedding",
    "video": "video",
}
#: the original hub's ``type`` names in the answer
TYPE_NAME = {"chat": "chat", "image": "image_generation", "embedding": "embedding", "video": "video"}


@bp.errorhandler(Exception)
async def _error(exc: Exception) -> Response:
    return aigne_error(as_hub_error(exc))


def decimal_string(value: Any) -> str:
    """A rate as the plain decimal string the SDK expects (``"0"``, ``"0.0000025"``), never exponent form."""
    text = format(Decimal(str(value or 0)), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text if text not in ("", "-0") else "0"


def model_rates(hub: Hub, provider: str, model: str, kind: str) -> tuple[str, str, dict[str, Any] | None]:
    """(input credits per token, output credits per unit, model metadata) of one listed model: the rate
    book's figures while the active billing mode charges, else ``"0"`` (free)."""
    billing = hub.gateway.billing
    rate = billing.rates.lookup(provider, model, kind)
    metadata = (rate.metadata or None) if rate is not None else None
    if rate is None or not billing.charges:
        return "0", "0", metadata
    return decimal_string(rate.input_rate), decimal_string(rate.output_rate), metadata


def model_status(hub: Hub, provider: str, model: str, kind: str) -> dict[str, bool] | None:
    """``{available}`` as the last call or check of the model found it (docs/routing.md); None: unknown."""
    state = hub.health.status.get(provider, model, kind)
    return {"available": state.available} if state is not None else None


@bp.get("/api/ai/models")
@bp.get("/api/ai-providers/models")
async def models() -> Response:
    """Public (no key), as in the original hub: the SDK's ``models()`` helper sends no credentials."""
    hub = current_hub()
    await hub.state.check_for_changes()
    await hub.gateway.billing.refresh()
    raw_type = request.args.get("type")
    kind = None
    if raw_type:
        kind = KIND_OF.get(raw_type)
        if kind is None:
            raise bad_request(f"type must be one of {', '.join(KIND_OF)}", param="type")
    entries = []
    for entry in await hub.catalog.list_models(kind):
        provider_name, model, kind_name = entry["provider"], entry["model"], entry["type"]
        if not hub.gateway.billing.offers(provider_name, model, kind_name):
            continue  # the active mode would refuse it (no rate): not offered, not priced at 0
        input_rate, output_rate, metadata = model_rates(hub, provider_name, model, kind_name)
        provider = hub.host.provider(provider_name)
        cfg = hub.routing.provider_config(provider_name, provider) if provider else None
        entries.append(
            {
                "key": entry["id"],
                "model": model,
                "type": TYPE_NAME.get(kind_name, kind_name),
                "provider": provider_name,
                "providerId": cfg.id if cfg else None,
                "providerDisplayName": entry["providerDisplayName"],
                "input_credits_per_token": input_rate,
                "output_credits_per_token": output_rate,
                "modelMetadata": metadata,
                "status": model_status(hub, provider_name, model, kind_name),
            }
        )
    return json_response(entries)


@bp.get("/api/v2/status")
async def status() -> Response:
    """Always 200: ``{available: true}`` or ``{available: false, error, code}``. A key is optional."""
    hub = current_hub()
    caller = None
    try:
        if request.headers.get("authorization") or request.headers.get("x-api-key"):
            caller = await hub.gateway.authenticate(request)
        model = request.args.get("model")
        if model:
            await _check_model(hub, caller, model)
        elif not _any_provider(hub):
            raise HubError(503, "no_providers", "No providers available")
    except HubError as err:
        return json_response({"available": False, "error": err.message, "code": err.status, "type": err.code})
    refusal = await hub.gateway.billing.status(caller, request_base_url()) if caller is not None else None
    return json_response(refusal or {"available": True})


async def _check_model(hub: Hub, caller: Caller | None, model: str) -> None:
    """Routing decides, exactly as for a call: through the hook with a caller, else the default rules."""
    if caller is not None:
        route = await hub.gateway.hooks.select_route(model, "chat", caller)
    else:
        route = hub.routing.select_route(
            model=model,
            kind="chat",
            caller=None,  # type: ignore[arg-type]
            exclude=frozenset(),
        )
    if route is None:
        raise model_not_found(model)


def _any_provider(hub: Hub) -> bool:
    for name, provider in hub.host.enabled_providers().items():
        cfg = hub.routing.provider_config(name, provider)
        if cfg is not None and cfg.enabled:
            return True
    return False


@bp.get("/api/user/info")
async def user_info() -> Response:
    """The caller and their credit (``aigne hub status``, the credit widget)."""
    hub = current_hub()
    caller = await hub.gateway.authenticate(request)
    row = await m.User.get_or_none(id=caller.user_id)
    user = {
        "did": caller.user_did,
        "fullName": caller.name,
        "email": row.email if row else None,
        "avatar": None,
        "role": caller.role,
    }
    credit = await hub.gateway.billing.user_credit_info(caller, request_base_url())
    return json_response({"user": user, **credit, "profileLink": None})
