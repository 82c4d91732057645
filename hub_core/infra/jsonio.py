"""JSON in and out of the hot path: the same results as ``json.loads`` / ``json.dumps``, minus per-call work
the standard functions do in Python (encoding detection for bytes, an encoder built per call)."""

from __future__ import annotations

import codecs
import json
from typing import Any

from hub_core.infra import json_overrides


def loads(raw: bytes) -> Any:
    """``json.loads(raw)``. UTF-8 without a BOM, what nearly every peer sends, is decoded here directly, as
    `json.loads` would (surrogatepass), and parsed by json's own scanner without the Python layers around
    it; anything else (a BOM, or UTF-16/32, which put NUL bytes in the first four) goes through its
    encoding detection."""
    if raw[:4].find(b"\x00") < 0 and not raw.startswith(codecs.BOM_UTF8):
        return _decode(raw.decode("utf-8", "surrogatepass"))  # bad UTF-8: UnicodeDecodeError, a ValueError
    return json.loads(raw)


_scan_once = json_overrides.scan_once  # the C scanner `json.loads` ends up in
_whitespace = json_overrides.whitespace


def _decode(text: str) -> Any:
    """``json.loads(text)`` for a str, raising the same `json.JSONDecodeError`s (what ``JSONDecoder.decode``
    and ``raw_decode`` do around the scanner)."""
    try:
        value, end = _scan_once(text, _whitespace(text, 0).end())
    except StopIteration as err:
        raise json.JSONDecodeError("Expecting value", text, err.value) from None
    end = _whitespace(text, end).end()
    if end != len(text):
        raise json.JSONDecodeError("Extra data", text, end)
    return value


def _not_json(value: Any) -> Any:
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


# json's own C encoder, made once: compact, ASCII-only (so always encodable, lone surrogates included); no
# circular-reference check (what is encoded here comes from parsed JSON)
_C_ENCODE = json_overrides.c_encoder(_not_json, ":", ",")


def dumps_bytes(value: Any) -> bytes:
    """``json.dumps(value, separators=(",", ":")).encode()``."""
    if _C_ENCODE:
        return "".join(_C_ENCODE(value, 0)).encode()
    return json.dumps(value, separators=(",", ":")).encode()
