"""Model rates: the `model_rates` table and its copy in memory (`RateBook`, reloaded with the configuration
generation, so pricing a call never reads the database), and the admin operations on it. What a call costs
at a rate is `hub_core.billing.pricing`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from tortoise.exceptions import IntegrityError

from hub_core.billing.pricing import ORIGINAL_TYPE, Rate, decimal_or_none, decimal_str, normalize_kind
from hub_core.config import Settings
from hub_core.db import audit
from hub_core.db import models as m
from hub_core.errors import HubError, bad_request, not_found
from hub_core.runtime.state import bump_generation


class RateBook:
    """All rates in memory, keyed by (provider, model, kind)."""

    def __init__(self) -> None:
        self._rates: dict[tuple[str, str, str], Rate] = {}

    async def load(self) -> None:
        rows = await m.ModelRate.all()
        self._rates = {(r.provider, r.model, r.kind): Rate.from_row(r) for r in rows}

    def lookup(self, provider: str | None, model: str | None, kind: str) -> Rate | None:
        if not provider or not model:
            return None
        return self._rates.get((provider, model, kind))

    def all(self) -> list[Rate]:
        return list(self._rates.values())

    def __len__(self) -> int:
        return len(self._rates)


# --- admin operations (API and CLI) ----------------------------------------------------------------------


def rate_dict(row: m.ModelRate) -> dict[str, Any]:
    """The original hub's AiModelRates shape (rates as decimal strings), plus ``kind``."""
    return {
        "id": row.id,
        "provider": row.provider,
        "model": row.model,
        "kind": row.kind,
        "type": ORIGINAL_TYPE.get(row.kind, row.kind),
        "modelDisplay": row.display_name or row.model,
        "description": row.description,
        "inputRate": decimal_str(decimal_or_none(row.input_rate)),
        "outputRate": decimal_str(decimal_or_none(row.output_rate)),
        "caching": {
            "readRate": decimal_str(decimal_or_none(row.cache_read_rate)),
            "writeRate": decimal_str(decimal_or_none(row.cache_write_rate)),
        },
        "unitCosts": {
            "input": decimal_str(decimal_or_none(row.unit_cost_input)),
            "output": decimal_str(decimal_or_none(row.unit_cost_output)),
        },
        "modelMetadata": row.metadata or {},
        "deprecated": row.deprecated,
        "deprecatedAt": row.deprecated_at.isoformat() if row.deprecated_at else None,
        "deprecatedReason": row.deprecated_reason,
        "createdAt": row.created_at.isoformat() if row.created_at else None,
        "updatedAt": row.updated_at.isoformat() if row.updated_at else None,
    }


#: rates are stored as DECIMAL(24, 12): twelve digits before the point
MAX_RATE = Decimal(10**12)


def _rate_value(value: Any, name: str, *, required: bool = False) -> Decimal | None:
    if value in (None, ""):
        if required:
            raise bad_request(f"{name} is required", param=name)
        return None
    try:
        dec = Decimal(str(value))
    except InvalidOperation as exc:
        raise bad_request(f"{name} must be a decimal number", param=name) from exc
    if not dec.is_finite() or dec < 0:
        raise bad_request(f"{name} must be a number ≥ 0", param=name)
    if dec >= MAX_RATE:
        raise bad_request(f"{name} must be below {MAX_RATE:,}", param=name)
    return dec.quantize(Decimal("1e-12"), ROUND_HALF_UP)


def _fields_from(body: dict[str, Any], *, creating: bool) -> dict[str, Any]:
    """Accept the original hub's camelCase body (inputRate, caching.readRate, unitCosts.input ...)."""
    out: dict[str, Any] = {}
    caching = body.get("caching") if isinstance(body.get("caching"), dict) else {}
    unit = body.get("unitCosts") if isinstance(body.get("unitCosts"), dict) else {}
    pairs = {
        "input_rate": ("inputRate", body.get("inputRate")),
        "output_rate": ("outputRate", body.get("outputRate")),
        "cache_read_rate": ("caching.readRate", caching.get("readRate", body.get("cacheReadRate"))),
        "cache_write_rate": ("caching.writeRate", caching.get("writeRate", body.get("cacheWriteRate"))),
        "unit_cost_input": ("unitCosts.input", unit.get("input")),
        "unit_cost_output": ("unitCosts.output", unit.get("output")),
    }
    for attr, (name, value) in pairs.items():
        present = value is not None or name.split(".")[0] in body
        if creating or present:
            required = creating and attr in ("input_rate", "output_rate")
            out[attr] = _rate_value(value, name, required=required)
    if creating and out["input_rate"] is None:
        out["input_rate"] = Decimal(0)
    for attr, key in (("display_name", "modelDisplay"), ("description", "description")):
        if key in body:
            out[attr] = (str(body[key]).strip() or None) if body[key] is not None else None
    if "modelMetadata" in body:
        if not isinstance(body["modelMetadata"], dict):
            raise bad_request("modelMetadata must be an object", param="modelMetadata")
        out["metadata"] = body["modelMetadata"]
    if "deprecated" in body:
        out["deprecated"] = bool(body["deprecated"])
        out["deprecated_at"] = datetime.now(UTC) if out["deprecated"] else None
        out["deprecated_reason"] = (body.get("deprecatedReason") or None) if out["deprecated"] else None
    return out


async def create_rate(
    settings: Settings, body: dict[str, Any], *, actor: audit.Actor | None = None
) -> m.ModelRate:
    provider = str(body.get("provider") or body.get("providerName") or "").strip().lower()
    model = str(body.get("model") or "").strip()
    if not provider or len(provider) > 50:
        raise bad_request("provider is required (a provider name such as 'openai')", param="provider")
    if not model or len(model) > 200:
        raise bad_request("model is required (at most 200 characters)", param="model")
    kind = normalize_kind(body.get("kind") or body.get("type") or "chat")
    try:
        row = await m.ModelRate.create(
            provider=provider, model=model, kind=kind, **_fields_from(body, creating=True)
        )
    except IntegrityError as exc:
        raise HubError(409, "rate_exists", f"A {kind} rate for {provider}/{model} already exists") from exc
    await audit.record(actor, "rate.create", "rate", row.id, after=rate_dict(row))
    await bump_generation(settings)
    return row


async def update_rate(
    settings: Settings, rate_id: int, body: dict[str, Any], *, actor: audit.Actor | None = None
) -> m.ModelRate:
    row = await get_rate(rate_id)
    before = rate_dict(row)
    for attr, value in _fields_from(body, creating=False).items():
        if attr in ("input_rate", "output_rate") and value is None:
            raise bad_request(f"{attr} cannot be empty", param=attr)
        setattr(row, attr, value)
    await row.save()
    await audit.record(actor, "rate.update", "rate", row.id, before=before, after=rate_dict(row))
    await bump_generation(settings)
    return row


async def upsert_rate(
    settings: Settings, body: dict[str, Any], *, actor: audit.Actor | None = None
) -> m.ModelRate:
    """Create the rate, or update the existing one for the same provider, model and kind (CLI)."""
    provider = str(body.get("provider") or "").strip().lower()
    kind = normalize_kind(body.get("kind") or body.get("type") or "chat")
    row = await m.ModelRate.get_or_none(
        provider=provider, model=str(body.get("model") or "").strip(), kind=kind
    )
    if row is None:
        return await create_rate(settings, body, actor=actor)
    return await update_rate(settings, row.id, body, actor=actor)


async def get_rate(rate_id: int) -> m.ModelRate:
    row = await m.ModelRate.get_or_none(id=rate_id)
    if row is None:
        raise not_found(f"Model rate {rate_id} not found")
    return row


async def delete_rate(settings: Settings, rate_id: int, *, actor: audit.Actor | None = None) -> None:
    row = await get_rate(rate_id)
    before = rate_dict(row)
    await row.delete()
    await audit.record(actor, "rate.delete", "rate", rate_id, before=before)
    await bump_generation(settings)


def suggested_rate(unit_cost: Decimal, margin_percent: Decimal, credit_price: Decimal) -> Decimal:
    """``unitCost * (1 + margin%) / creditPrice``: the sell rate for an upstream cost."""
    if credit_price <= 0:
        raise bad_request("creditPrice must be greater than 0", param="creditPrice")
    rate = unit_cost * (1 + margin_percent / 100) / credit_price
    if rate >= MAX_RATE:
        raise bad_request(f"the resulting rate {rate:.0f} is not below {MAX_RATE:,}", param="profitMargin")
    return rate.quantize(Decimal("1e-12"), ROUND_HALF_UP)


async def bulk_reprice(
    settings: Settings,
    margin_percent: Any,
    credit_price: Any,
    *,
    provider: str | None = None,
    kind: str | None = None,
    ids: list[int] | None = None,
    actor: audit.Actor | None = None,
) -> list[m.ModelRate]:
    """Recompute input and output rates of every matching rate that has upstream unit costs."""
    margin = _rate_value(margin_percent, "profitMargin", required=True)
    price = _rate_value(credit_price, "creditPrice", required=True)
    assert margin is not None and price is not None
    query = m.ModelRate.filter(deprecated=False)
    if provider:
        query = query.filter(provider=provider)
    if kind:
        query = query.filter(kind=normalize_kind(kind))
    if ids:
        query = query.filter(id__in=ids)
    changed = []
    for row in await query:
        if row.unit_cost_input is None and row.unit_cost_output is None:
            continue
        before = rate_dict(row)
        if row.unit_cost_input is not None:
            row.input_rate = suggested_rate(Decimal(row.unit_cost_input), margin, price)
        if row.unit_cost_output is not None:
            row.output_rate = suggested_rate(Decimal(row.unit_cost_output), margin, price)
        await row.save()
        await audit.record(actor, "rate.reprice", "rate", row.id, before=before, after=rate_dict(row))
        changed.append(row)
    if changed:
        await bump_generation(settings)
    return changed
