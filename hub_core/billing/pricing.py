"""Pricing: credit units, the `Rate` of a model and what a call's usage costs at it, and the estimates a
billing mode holds credits for. Pure functions: no database, no I/O (`hub_core.billing.rates` loads rates).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, localcontext
from typing import Any

from hub_core.errors import bad_request
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
    def from_row(cls, row: Any) -> Rate:
        """From a ``model_rates`` row (any object with its columns as attributes)."""
        return cls(
            id=row.id,
            provider=row.provider,
            model=row.model,
            kind=row.kind,
            input_rate=Decimal(row.input_rate),
            output_rate=Decimal(row.output_rate),
            cache_read_rate=decimal_or_none(row.cache_read_rate),
            cache_write_rate=decimal_or_none(row.cache_write_rate),
            unit_cost_input=decimal_or_none(row.unit_cost_input),
            unit_cost_output=decimal_or_none(row.unit_cost_output),
            display_name=row.display_name,
            description=row.description,
            metadata=dict(row.metadata or {}),
            deprecated=row.deprecated,
        )


def decimal_or_none(value: Any) -> Decimal | None:
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


def _choices(payload: dict[str, Any]) -> int:
    """How many answers the request asks for (``n``, 1 unless a positive integer)."""
    n = payload.get("n")
    return n if isinstance(n, int) and n > 0 else 1


def requested_output(payload: dict[str, Any], kind: str, default_tokens: int) -> Usage:
    """The most output a request can produce, as a `Usage` (tokens for chat, images, video seconds)."""
    if kind == "chat":
        limit = None
        for key in OUTPUT_LIMIT_KEYS:
            value = payload.get(key)
            if isinstance(value, int) and value > 0:
                limit = value
                break
        return Usage(output_tokens=min((limit or default_tokens) * _choices(payload), MAX_REQUESTED))
    if kind == "image":
        return Usage(images=min(_choices(payload), MAX_REQUESTED))
    if kind == "video":
        seconds = payload.get("seconds") or payload.get("duration") or 8
        try:
            value = float(seconds)
        except (TypeError, ValueError):
            value = 8.0
        return Usage(seconds=min(value, MAX_REQUESTED) if value > 0 else 8.0)  # also nan, inf
    return Usage()
