"""`hub_core.infra.jsonio` gives what the standard functions give, for every encoding JSON allows."""

from __future__ import annotations

import codecs
import json

import pytest

from hub_core.infra import jsonio

VALUES = [{"a": 1}, {"text": "é \u2028 😀 \ud800"}, [1, 2.5, None, True, "x"], {"n": {"deep": []}}, "s", 0]


@pytest.mark.parametrize("value", VALUES)
@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32"])
def test_loads_matches_json_loads(value, encoding):
    raw = json.dumps(value, ensure_ascii=False).encode(encoding, "surrogatepass")
    assert jsonio.loads(raw) == json.loads(raw)


@pytest.mark.parametrize(
    "raw", [b"", b" ", b"{", b"{} x", b"1 2", b"[1,]", b'{"a":"\xff"}', b"\xef\xbb", b"nul\x00l"]
)
def test_loads_refuses_what_json_loads_refuses(raw):
    with pytest.raises(ValueError) as expected:
        json.loads(raw)
    with pytest.raises(ValueError) as got:
        jsonio.loads(raw)
    assert (type(got.value), str(got.value)) == (type(expected.value), str(expected.value))


@pytest.mark.parametrize("raw", [b" {} ", b"\n[1, 2]\t", b"NaN", b"-Infinity", b'"x"', b"1e400"])
def test_loads_accepts_what_json_loads_accepts(raw):
    assert repr(jsonio.loads(raw)) == repr(json.loads(raw))


@pytest.mark.parametrize("value", VALUES)
def test_dumps_bytes_matches_compact_json_dumps(value):
    assert jsonio.dumps_bytes(value) == json.dumps(value, separators=(",", ":")).encode()


def test_dumps_bytes_refuses_what_json_cannot_write():
    with pytest.raises(TypeError):
        jsonio.dumps_bytes({"x": codecs})
