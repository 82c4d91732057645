"""Model rates: what one call costs in credits, per provider, model and kind of call.

Rates live in the `model_rates` table and in memory (`RateBook`, reloaded with the configuration generation),
so pricing a call never reads the database. Every billing mode and the AIGNE model list use them. Amounts are
`Decimal` here and integer units (`UNIT`) in the ledger.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation, localcontext
from typing import Any

from tortoise.exceptions import IntegrityError

from hub_core.config import Settings
from hub_core.db import models as m
from hub_core.errors import HubError, bad_request, not_found
from hub_core.state import bump_generation
from hub_core.types import Usage

#: one unit of the ledger: credits are stored as integers of 1e-10 credit, so SQL arithmetic stays exact
UNIT = Decimal("1e-10")
SCALE = 10**10

KINDS = ("chat", "embedding", "image", "video")
#: the original hub's type names, accepted wherever a kind is
KIND_ALIASES = {
    "chatCompletion": "chat",
    "chat_completion": "chat",
    "imageGeneration": "image",
    "image_generation": "image",
    "embeddings": "embedding",
}
ORIGINAL_TYPE = {
    "chat": "chatCompletion",
    "embedding": "embedding",
    "image": "imageGeneration",
    "video": "video",
}


def to_units(value: Decimal | str | int | float | None) -> int:
    """Credits (any number form) → integer units, rounded half up at 10 decimals."""
    if value in (None, ""):
        return 0
    dec = value if isinstance(value, Decimal) else Decimal(str(value))
    return int((dec / UNIT).to_integral_value(ROUND_HALF_UP))


def from_units(units: int) -> Decimal:
    return (Decimal(int(units)) * UNIT).quantize(UNIT)


def credits_str(units: int) -> str:
    """Units → a plain decimal string without exponent or trailing zeros (``"0.0125"``, ``"3"``)."""
    text = format(from_units(units), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text if text not in ("", "-0") else "0"


def decimal_str(value: Decimal | None) -> str | None:
    if value is None:
        return None
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


def normalize_kind(kind: Any) -> str:
    value = KIND_ALIASES.get(str(kind), str(kind))
    if value not in KINDS:
        raise bad_request(f"type must be one of {', '.join(KINDS)}", param="type")
    return value


@dataclass(frozen=True, slots=True)
class Rate:
    """One model's price; `output_rate` is per output token (chat), image (image) or second (video)."""

    id: int
    provider: str
    model: str
    kind: str
    input_rate: Decimal
    output_rate: Decimal
    cache_read_rate: Decimal | None = None
    cache_write_rate: Decimal | None = None
    unit_cost_input: Decimal | None = None
    unit_cost_output: Decimal | None = None
    display_name: str | None = None
    description: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    deprecated: bool = False

    @classmethod
    def from_row(cls, row: m.ModelRate) -> Rate:
        return cls(
            id=row.id,
            provider=row.provider,
            model=row.model,
            kind=row.kind,
            input_rate=Decimal(row.input_rate),
            output_rate=Decimal(row.output_rate),
            cache_read_rate=_dec_or_none(row.cache_read_rate),
            cache_write_rate=_dec_or_none(row.cache_write_rate),
            unit_cost_input=_dec_or_none(row.unit_cost_input),
            unit_cost_output=_dec_or_none(row.unit_cost_output),
            display_name=row.display_name,
            description=row.description,
            metadata=dict(row.metadata or {}),
            deprecated=row.deprecated,
        )


def _dec_or_none(value: Any) -> Decimal | None:
    return None if value is None else Decimal(value)


def cost_of(usage: Usage, rate: Rate, kind: str | None = None) -> Decimal:
    """The price of one call's usage, to 10 decimals.

    `usage.input_tokens` counts every prompt token, cached ones included (OpenAI's convention, which every
    provider normalizer follows). Cache reads and writes are priced at their own rates when set, else at the
    input rate; the rest of the prompt at the input rate. Output tokens (reasoning included) at the output
    rate for chat and embeddings; images and video seconds at the output rate for those kinds.
    """
    with localcontext() as ctx:
        ctx.prec = 60  # rates (< 1e12, 12 decimals) times counts (< 1e12) stay exact to 10 decimals
        return _cost_of(usage, rate, kind or rate.kind)


def _cost_of(usage: Usage, rate: Rate, kind: str) -> Decimal:
    cached = max(0, usage.cached_input_tokens)
    written = max(0, usage.cache_write_tokens)
    plain_input = max(0, usage.input_tokens - cached - written)
    read_rate = rate.cache_read_rate if rate.cache_read_rate is not None else rate.input_rate
    write_rate = rate.cache_write_rate if rate.cache_write_rate is not None else rate.input_rate
    total = plain_input * rate.input_rate + cached * read_rate + written * write_rate
    if kind == "image":
        total += usage.images * rate.output_rate
    elif kind == "video":
        total += Decimal(str(usage.seconds)) * rate.output_rate
    else:
        total += max(0, usage.output_tokens) * rate.output_rate
    return total.quantize(UNIT, ROUND_HALF_UP)


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


# --- estimates for holds ---------------------------------------------------------------------------------

OUTPUT_LIMIT_KEYS = ("max_completion_tokens", "max_tokens", "max_output_tokens")
#: the largest output a request is held for (tokens, images or seconds): far beyond any real call, small
#: enough that its price stays exact (``max_tokens: 1e30`` must be a 402, not an arithmetic error)
MAX_REQUESTED = 10**12
IMAGE_PART_TOKENS = 1500  # a generous price for one image in a prompt (OpenAI: 85 to ~1,100)
MESSAGE_OVERHEAD = 4


def prompt_size(payload: dict[str, Any], kind: str) -> tuple[int, int]:
    """(UTF-8 bytes of prompt text, number of non-text parts) of a standard request, without base64 data."""
    size, parts = 0, 0
    if kind == "chat":
        for msg in payload.get("messages") or []:
            if not isinstance(msg, dict):
                continue
            size += MESSAGE_OVERHEAD * 4
            s, p = _content_size(msg.get("content"))
            size, parts = size + s, parts + p
            for call in msg.get("tool_calls") or []:
                size += len(str(call).encode())
        if payload.get("tools"):
            size += len(str(payload["tools"]).encode())
    elif kind == "embedding":
        inp = payload.get("input")
        items = inp if isinstance(inp, list) else [inp]
        for item in items:
            # token-id arrays count one token each (estimated as four bytes)
            size += 4 * len(item) if isinstance(item, list) else len(str(item or "").encode())
    else:
        size += len(str(payload.get("prompt") or "").encode())
    return size, parts


def _content_size(content: Any) -> tuple[int, int]:
    if isinstance(content, str):
        return len(content.encode()), 0
    size, parts = 0, 0
    if isinstance(content, list):
        for part in content:
            if isinstance(part, dict) and part.get("type") == "text":
                size += len(str(part.get("text") or "").encode())
            elif isinstance(part, dict):
                parts += 1
    return size, parts


def worst_case_prompt_tokens(payload: dict[str, Any], kind: str) -> int:
    """An upper estimate: a token per 3 bytes covers English (about 4 characters a token) and CJK (one
    character, 3 bytes, about a token)."""
    size, parts = prompt_size(payload, kind)
    return math.ceil(size / 3) + parts * IMAGE_PART_TOKENS


def fair_prompt_tokens(payload: dict[str, Any], kind: str) -> int:
    """A middle estimate (4 bytes a token), used only when a provider never reported the prompt's size."""
    size, parts = prompt_size(payload, kind)
    return math.ceil(size / 4) + parts * (IMAGE_PART_TOKENS // 2)


def requested_output(payload: dict[str, Any], kind: str, default_tokens: int) -> Usage:
    """The most output a request can produce, as a `Usage` (tokens for chat, images, video seconds)."""
    if kind == "chat":
        limit = None
        for key in OUTPUT_LIMIT_KEYS:
            value = payload.get(key)
            if isinstance(value, int) and value > 0:
                limit = value
                break
        n = payload.get("n") if isinstance(payload.get("n"), int) and payload["n"] > 0 else 1
        return Usage(output_tokens=min((limit or default_tokens) * n, MAX_REQUESTED))
    if kind == "image":
        n = payload.get("n") if isinstance(payload.get("n"), int) and payload["n"] > 0 else 1
        return Usage(images=min(n, MAX_REQUESTED))
    if kind == "video":
        seconds = payload.get("seconds") or payload.get("duration") or 8
        try:
            value = float(seconds)
        except (TypeError, ValueError):
            value = 8.0
        return Usage(seconds=min(value, MAX_REQUESTED) if value > 0 else 8.0)  # also nan, inf
    return Usage()


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
        "inputRate": decimal_str(_dec_or_none(row.input_rate)),
        "outputRate": decimal_str(_dec_or_none(row.output_rate)),
        "caching": {
            "readRate": decimal_str(_dec_or_none(row.cache_read_rate)),
            "writeRate": decimal_str(_dec_or_none(row.cache_write_rate)),
        },
        "unitCosts": {
            "input": decimal_str(_dec_or_none(row.unit_cost_input)),
            "output": decimal_str(_dec_or_none(row.unit_cost_output)),
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


async def create_rate(settings: Settings, body: dict[str, Any]) -> m.ModelRate:
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
    await bump_generation(settings)
    return row


async def update_rate(settings: Settings, rate_id: int, body: dict[str, Any]) -> m.ModelRate:
    row = await get_rate(rate_id)
    for attr, value in _fields_from(body, creating=False).items():
        if attr in ("input_rate", "output_rate") and value is None:
            raise bad_request(f"{attr} cannot be empty", param=attr)
        setattr(row, attr, value)
    await row.save()
    await bump_generation(settings)
    return row


async def upsert_rate(settings: Settings, body: dict[str, Any]) -> m.ModelRate:
    """Create the rate, or update the existing one for the same provider, model and kind (CLI)."""
    provider = str(body.get("provider") or "").strip().lower()
    kind = normalize_kind(body.get("kind") or body.get("type") or "chat")
    row = await m.ModelRate.get_or_none(
        provider=provider, model=str(body.get("model") or "").strip(), kind=kind
    )
    if row is None:
        return await create_rate(settings, body)
    return await update_rate(settings, row.id, body)


async def get_rate(rate_id: int) -> m.ModelRate:
    row = await m.ModelRate.get_or_none(id=rate_id)
    if row is None:
        raise not_found(f"Model rate {rate_id} not found")
    return row


async def delete_rate(settings: Settings, rate_id: int) -> None:
    row = await get_rate(rate_id)
    await row.delete()
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
        if row.unit_cost_input is not None:
            row.input_rate = suggested_rate(Decimal(row.unit_cost_input), margin, price)
        if row.unit_cost_output is not None:
            row.output_rate = suggested_rate(Decimal(row.unit_cost_output), margin, price)
        await row.save()
        changed.append(row)
    if changed:
        await bump_generation(settings)
    return changed
