"""The incremental AWS event-stream decoder and the ConverseStream normalizer, fed bytes directly.

Frames come from the fake's own encoder (written apart from the plugin's decoder) or are built by hand here.
"""

from __future__ import annotations

import json
import zlib
from types import ModuleType
from typing import Any

import hub_provider_bedrock as bedrock
import pytest
from hub_provider_bedrock.eventstream import EventStreamDecoder, EventStreamError

from hub_core import HubError


def raw_frame(raw_headers: bytes, payload: bytes) -> bytes:
    total = 12 + len(raw_headers) + len(payload) + 4
    prelude = total.to_bytes(4, "big") + len(raw_headers).to_bytes(4, "big")
    message = prelude + zlib.crc32(prelude).to_bytes(4, "big") + raw_headers + payload
    return message + zlib.crc32(message).to_bytes(4, "big")


def header(name: str, kind: int, value: bytes) -> bytes:
    return bytes([len(name)]) + name.encode() + bytes([kind]) + value


def decode_all(data: bytes, piece: int | None = None) -> list[tuple[dict[str, Any], bytes]]:
    decoder = EventStreamDecoder()
    step = piece or len(data) or 1
    out = []
    for i in range(0, len(data), step):
        out.extend(decoder.feed(data[i : i + step]))
    assert decoder.pending == 0
    return out


def test_one_message(fake_module: ModuleType) -> None:
    frame = fake_module.event("messageStop", {"stopReason": "end_turn"})
    [(headers, payload)] = decode_all(frame)
    assert headers == {
        ":event-type": "messageStop",
        ":content-type": "application/json",
        ":message-type": "event",
    }
    assert json.loads(payload)["stopReason"] == "end_turn"


@pytest.mark.parametrize("piece", [1, 2, 3, 7, 11, 12, 13, 64])
def test_messages_split_across_reads_at_any_boundary(fake_module: ModuleType, piece: int) -> None:
    stream = b"".join(
        fake_module.event("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": word}})
        for word in ("one", " two", " three")
    )
    texts = [json.loads(p)["delta"]["text"] for _, p in decode_all(stream, piece)]
    assert texts == ["one", " two", " three"]


def test_several_messages_in_one_read_and_a_partial_one_kept(fake_module: ModuleType) -> None:
    first, second = (
        fake_module.event("messageStart", {"role": "assistant"}),
        fake_module.event("metadata", {}),
    )
    decoder = EventStreamDecoder()
    got = list(decoder.feed(first + second + second[:10]))
    assert [h[":event-type"] for h, _ in got] == ["messageStart", "metadata"]
    assert decoder.pending == 10
    assert [h[":event-type"] for h, _ in decoder.feed(second[10:])] == ["metadata"]
    assert decoder.pending == 0


def test_every_header_value_type() -> None:
    raw = b"".join(
        [
            header("t", 0, b""),
            header("f", 1, b""),
            header("byte", 2, (-2).to_bytes(1, "big", signed=True)),
            header("short", 3, (300).to_bytes(2, "big")),
            header("int", 4, (-70000).to_bytes(4, "big", signed=True)),
            header("long", 5, (2**40).to_bytes(8, "big")),
            header("bytes", 6, (3).to_bytes(2, "big") + b"\x00\x01\x02"),
            header(":event-type", 7, (4).to_bytes(2, "big") + b"ping"),
            header("ts", 8, (1_700_000_000_000).to_bytes(8, "big")),
            header("uuid", 9, bytes(range(16))),
        ]
    )
    [(headers, payload)] = decode_all(raw_frame(raw, b"{}"))
    assert headers == {
        "t": True,
        "f": False,
        "byte": -2,
        "short": 300,
        "int": -70000,
        "long": 2**40,
        "bytes": b"\x00\x01\x02",
        ":event-type": "ping",
        "ts": 1_700_000_000_000,
        "uuid": bytes(range(16)).hex(),
    }
    assert payload == b"{}"


def test_empty_headers_and_payload() -> None:
    assert decode_all(raw_frame(b"", b"")) == [({}, b"")]


def test_message_crc_mismatch_is_rejected(fake_module: ModuleType) -> None:
    frame = bytearray(fake_module.event("contentBlockDelta", {"delta": {"text": "hi"}}))
    frame[-8] ^= 0x20  # a payload byte: the message CRC no longer matches
    with pytest.raises(EventStreamError, match="message CRC"):
        decode_all(bytes(frame))


def test_prelude_crc_mismatch_is_rejected_before_waiting_for_the_rest(fake_module: ModuleType) -> None:
    frame = bytearray(fake_module.event("messageStart", {"role": "assistant"}))
    frame[3] ^= 0x01  # the total length: a corrupt prelude must not make the decoder wait for megabytes
    decoder = EventStreamDecoder()
    with pytest.raises(EventStreamError, match="prelude CRC"):
        list(decoder.feed(bytes(frame[:12])))


@pytest.mark.parametrize(("total", "headers_len"), [(10, 0), (20, 8), (64 << 20, 0)])
def test_impossible_lengths_are_rejected(total: int, headers_len: int) -> None:
    prelude = total.to_bytes(4, "big") + headers_len.to_bytes(4, "big")
    with pytest.raises(EventStreamError, match="impossible lengths"):
        list(EventStreamDecoder().feed(prelude + zlib.crc32(prelude).to_bytes(4, "big")))


@pytest.mark.parametrize(
    "raw_headers",
    [
        header("s", 7, (50).to_bytes(2, "big") + b"short"),  # string longer than the headers
        header("n", 4, b"\x00\x01"),  # integer cut short
        header("x", 42, b""),  # unknown value type
        bytes([20]) + b"name",  # name longer than the headers
    ],
    ids=["string", "integer", "type", "name"],
)
def test_broken_headers_inside_valid_crcs_are_rejected(raw_headers: bytes) -> None:
    with pytest.raises(EventStreamError):
        decode_all(raw_frame(raw_headers, b"{}"))


# --- the normalizer -----------------------------------------------------------------------------------------


def normalizer() -> bedrock.ConverseNormalizer:
    return bedrock.ConverseNormalizer("us.amazon.nova-lite-v1:0")


def test_normalizer_turns_events_into_chunks_across_reads(fake_module: ModuleType) -> None:
    usage = {"inputTokens": 5, "outputTokens": 2, "cacheReadInputTokens": 3, "totalTokens": 10}
    stream = b"".join(fake_module.FakeBedrock.stream_messages("m", "Hi there", None, usage))
    norm = normalizer()
    chunks = []
    for i in range(0, len(stream), 9):
        chunks.extend(norm.feed(stream[i : i + 9]))
    chunks.extend(norm.finish())
    text = "".join(c.data["choices"][0]["delta"].get("content") or "" for c in chunks if c.data["choices"])
    assert text == "Hi there"
    assert chunks[0].data["choices"][0]["delta"]["role"] == "assistant"
    finish = [c.data["choices"][0]["finish_reason"] for c in chunks if c.data["choices"]]
    assert finish[-1] == "stop"
    assert chunks[-1].usage_only and chunks[-1].data["usage"]["prompt_tokens"] == 8
    assert (norm.usage.input_tokens, norm.usage.cached_input_tokens, norm.usage.output_tokens) == (8, 3, 2)


def test_corrupt_frame_after_text_delivers_the_text_then_the_error(fake_module: ModuleType) -> None:
    good = fake_module.event("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": "Hi"}})
    bad = bytearray(fake_module.event("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": "!"}}))
    bad[-1] ^= 0xFF
    norm = normalizer()
    chunks = norm.feed(good + bytes(bad))
    assert [c.data["choices"][0]["delta"]["content"] for c in chunks] == ["Hi"]
    assert isinstance(norm.pending_error, HubError) and norm.pending_error.code == "upstream_malformed"
    with pytest.raises(HubError) as info:  # nothing before it in the piece: raised at once
        normalizer().feed(bytes(bad))
    assert info.value.code == "upstream_malformed" and "CRC" in info.value.message


def test_stream_cut_inside_a_message_is_an_error(fake_module: ModuleType) -> None:
    frame = fake_module.event("messageStop", {"stopReason": "end_turn"})
    norm = normalizer()
    assert norm.feed(frame[:20]) == []
    with pytest.raises(HubError) as info:
        norm.finish()
    assert info.value.code == "upstream_broken"


@pytest.mark.parametrize(
    ("exception", "status", "code"),
    [
        ("throttlingException", 429, "rate_limited"),
        ("serviceUnavailableException", 502, "upstream_error"),
        ("modelStreamErrorException", 502, "upstream_error"),
        ("internalServerException", 502, "upstream_error"),
        ("validationException", 400, "upstream_bad_request"),
    ],
)
def test_exception_messages_become_errors(
    fake_module: ModuleType, exception: str, status: int, code: str
) -> None:
    with pytest.raises(HubError) as info:
        normalizer().feed(fake_module.exception(exception, "it went wrong"))
    assert (info.value.status, info.value.code) == (status, code)
    assert "it went wrong" in info.value.message


def test_unknown_events_are_ignored(fake_module: ModuleType) -> None:
    assert normalizer().feed(fake_module.event("somethingNew", {"x": 1})) == []
