"""Admin API of billing: the active mode and its settings (``/api/admin/billing``) and the model rates
(``/api/ai-providers/model-rates``, as in the original hub). Every route needs an admin key."""

from __future__ import annotations

from typing import Any

from quart import Blueprint, Response, request

from hub_core.billing import rates
from hub_core.billing.pricing import ORIGINAL_TYPE
from hub_core.db import models as m
from hub_core.errors import bad_request
from hub_core.runtime.state import bump_generation
from hub_core.web.api.admin_auth import audit_actor, require_admin
from hub_core.web.api.common import admin_error, as_hub_error, current_hub, json_body, json_response

bp = Blueprint("billing", __name__)


@bp.errorhandler(Exception)
async def _error(exc: Exception) -> Response:
    return admin_error(as_hub_error(exc))


@bp.before_request
async def _admin_only() -> None:
    await require_admin()


async def _reloaded() -> None:
    hub = current_hub()
    await hub.state.reload()
    await hub.gateway.billing.refresh(force=True)


# --- mode and settings ----------------------------------------------------------------------------------


@bp.get("/api/admin/billing")
async def get_billing() -> Response:
    billing = current_hub().gateway.billing
    await billing.refresh()
    return json_response(billing.describe())


@bp.put("/api/admin/billing")
async def put_billing() -> Response:
    """``{"mode"?: name | "none", "settings"?: {...}}``; settings apply to `mode` (or the active mode)."""
    hub = current_hub()
    billing = hub.gateway.billing
    body = await json_body()
    await billing.refresh()
    if "mode" in body:
        await billing.set_mode(str(body["mode"]), actor=await audit_actor())
    if "settings" in body:
        if not isinstance(body["settings"], dict):
            raise bad_request("settings must be an object", param="settings")
        name = str(body.get("mode") or billing.mode_name or "")
        await billing.update_settings(name, body["settings"], actor=await audit_actor())
    await bump_generation(hub.settings)
    await _reloaded()
    return json_response(billing.describe())


# --- model rates ------------------------------------------------------------------------------------------


def _paging() -> tuple[int, int]:
    try:
        page = max(1, int(request.args.get("page", 1)))
        size = min(500, max(1, int(request.args.get("pageSize", 100))))
    except ValueError as exc:
        raise bad_request("page and pageSize must be integers") from exc
    return page, size


@bp.get("/api/ai-providers/model-rates")
async def list_rates() -> Response:
    page, size = _paging()
    query = m.ModelRate.all()
    if provider := request.args.get("provider") or request.args.get("providerId"):
        query = query.filter(provider=provider)
    if model := request.args.get("model"):
        query = query.filter(model__icontains=model)
    if kind := request.args.get("type") or request.args.get("kind"):
        query = query.filter(kind=rates.normalize_kind(kind))
    if (deprecated := request.args.get("deprecated")) is not None:
        query = query.filter(deprecated=deprecated in ("1", "true"))
    count = await query.count()
    rows = await query.order_by("provider", "model", "kind").offset((page - 1) * size).limit(size)
    return json_response(
        {
            "count": count,
            "list": [rates.rate_dict(r) for r in rows],
            "paging": {"page": page, "pageSize": size},
        }
    )


@bp.post("/api/ai-providers/model-rates")
async def create_rates() -> Response:
    """One rate, or the same rate for several providers at once (``"providers": ["openai", ...]``)."""
    hub = current_hub()
    body = await json_body()
    names = body.get("providers")
    if names is not None:
        if not isinstance(names, list) or not names:
            raise bad_request("providers must be a non-empty array of provider names", param="providers")
        rows = [
            await rates.create_rate(hub.settings, {**body, "provider": str(n)}, actor=await audit_actor())
            for n in names
        ]
        await _reloaded()
        return json_response({"list": [rates.rate_dict(r) for r in rows]}, 201)
    row = await rates.create_rate(hub.settings, body, actor=await audit_actor())
    await _reloaded()
    return json_response(rates.rate_dict(row), 201)


@bp.get("/api/ai-providers/model-rates/catalog")
async def rate_catalog() -> Response:
    """Every model the enabled providers serve (the ``/v1/models`` catalog, whatever the billing mode offers),
    each with its rate's id or ``rated: false``, so the console can list the models that still need a rate."""
    hub = current_hub()
    await hub.state.check_for_changes()
    rows = await m.ModelRate.all().values_list("id", "provider", "model", "kind")
    rate_ids = {(provider, model, kind): rate_id for rate_id, provider, model, kind in rows}
    entries = []
    for entry in await hub.catalog.list_models():
        rate_id = rate_ids.get((entry["provider"], entry["model"], entry["type"]))
        entries.append(
            {
                "provider": entry["provider"],
                "providerDisplayName": entry["providerDisplayName"],
                "model": entry["model"],
                "kind": entry["type"],
                "type": ORIGINAL_TYPE.get(entry["type"], entry["type"]),
                "rated": rate_id is not None,
                "rateId": rate_id,
            }
        )
    unrated = sum(1 for e in entries if not e["rated"])
    return json_response({"count": len(entries), "unrated": unrated, "list": entries})


@bp.get("/api/ai-providers/model-rates/<int:rate_id>")
async def get_rate(rate_id: int) -> Response:
    return json_response(rates.rate_dict(await rates.get_rate(rate_id)))


@bp.put("/api/ai-providers/model-rates/<int:rate_id>")
async def update_rate(rate_id: int) -> Response:
    row = await rates.update_rate(
        current_hub().settings, rate_id, await json_body(), actor=await audit_actor()
    )
    await _reloaded()
    return json_response(rates.rate_dict(row))


@bp.delete("/api/ai-providers/model-rates/<int:rate_id>")
async def delete_rate(rate_id: int) -> Response:
    await rates.delete_rate(current_hub().settings, rate_id, actor=await audit_actor())
    await _reloaded()
    return json_response({"message": "deleted"})


@bp.post("/api/ai-providers/bulk-rate-update")
async def bulk_rate_update() -> Response:
    """``{profitMargin (percent), creditPrice, provider?, type?, ids?}``: rates from unit costs."""
    body = await json_body()
    ids = body.get("ids")
    if ids is not None and (not isinstance(ids, list) or not all(isinstance(i, int) for i in ids)):
        raise bad_request("ids must be an array of rate ids", param="ids")
    rows = await rates.bulk_reprice(
        current_hub().settings,
        body.get("profitMargin"),
        body.get("creditPrice", 1),
        provider=body.get("provider"),
        kind=body.get("type") or body.get("kind"),
        ids=ids,
        actor=await audit_actor(),
    )
    await _reloaded()
    return json_response({"updated": len(rows), "list": [rates.rate_dict(r) for r in rows]})


def rate_summary(rate: Any) -> dict[str, Any]:
    """A rate as the public model list shows it (decimal strings), for other blueprints."""
    return {
        "inputRate": rates.decimal_str(rate.input_rate),
        "outputRate": rates.decimal_str(rate.output_rate),
        "caching": {
            "readRate": rates.decimal_str(rate.cache_read_rate),
            "writeRate": rates.decimal_str(rate.cache_write_rate),
        },
        "deprecated": rate.deprecated,
    }
