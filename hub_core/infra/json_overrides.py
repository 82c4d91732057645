"""Every use of the json module's private internals (for speed) in one place: its C encoder, built once
instead of per call, and its C scanner, called without the Python layers around it. Both fall back to the
public functions where CPython lacks them; tests/test_library_overrides.py checks they still give
`json.dumps` / `json.loads` results on every supported Python (3.11 to 3.13)."""

from __future__ import annotations

import json
from collections.abc import Callable
from json.encoder import c_make_encoder, encode_basestring_ascii  # type: ignore[attr-defined]
from typing import Any

#: json's C scanner, what `json.loads` ends up in: ``scan_once(text, index) -> (value, end)``, raising
#: StopIteration(index) where no value starts
scan_once: Callable[[str, int], tuple[Any, int]] = json.decoder.JSONDecoder().scan_once
#: matches the whitespace JSON allows between values (``json.decoder.WHITESPACE.match``)
whitespace = json.decoder.WHITESPACE.match


def c_encoder(
    default: Callable[[Any], Any], key_separator: str, item_separator: str
) -> Callable[[Any, int], list[str]] | None:
    """The C encoder `json.dumps(..., ensure_ascii=True, check_circular=False, separators=...)` builds for
    each call, built once; ``"".join(encoder(value, 0))`` is the text. None where CPython has none."""
    if c_make_encoder is None:
        return None
    # markers (None: no circular check), default, encoder, indent, separators, sort_keys, skipkeys, allow_nan
    return c_make_encoder(  # type: ignore[no-any-return]
        None, default, encode_basestring_ascii, None, key_separator, item_separator, False, False, True
    )
