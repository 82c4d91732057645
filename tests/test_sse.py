"""The SSE parser: any split of a stream gives the events of the whole, in time linear in its bytes, and an
event that never ends is refused at the cap instead of being held (and re-copied) without limit."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hub_core.errors import HubError
from hub_core.providers.sse import SSEParser


def reference(stream: bytes) -> list[tuple[str | None, bytes]]:
    """The events of a whole stream, read straight from the SSE spec (no incremental state)."""
    text = stream.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    out: list[tuple[str | None, bytes]] = []
    for block in text.split(b"\n\n"):
        event, data = None, []
        for line in block.split(b"\n"):
            if not line or line.startswith(b":"):
                continue
            field, _, value = line.partition(b":")
            value = value[1:] if value.startswith(b" ") else value
            if field == b"data":
                data.append(value)
            elif field == b"event":
                event = value.decode(errors="replace")
        if data or event is not None:
            out.append((event, b"\n".join(data)))
    return out


def parse(pieces: list[bytes]) -> list[tuple[str | None, bytes]]:
    parser = SSEParser()
    events = [e for piece in pieces for e in parser.feed(piece)]
    return events + parser.finish()


LINE = st.sampled_from(
    [b"data: {}", b'data: {"a":1}', b"data:x", b"event: ping", b": comment", b"id: 7", b"data: ", b"data"]
)
END = st.sampled_from([b"\n", b"\r\n", b"\r"])


@st.composite
def streams(draw: st.DrawFn) -> bytes:
    parts: list[bytes] = []
    for _ in range(draw(st.integers(0, 12))):
        for line in draw(st.lists(LINE, min_size=1, max_size=3)):
            parts += [line, draw(END)]
        parts.append(draw(END))  # the blank line that ends the event
    return b"".join(parts)


@settings(max_examples=400, deadline=None)
@given(stream=streams(), cuts=st.lists(st.integers(0, 400), max_size=12))
def test_any_split_gives_the_events_of_the_whole_stream(stream: bytes, cuts: list[int]) -> None:
    points = sorted({min(c, len(stream)) for c in cuts})
    pieces = [stream[a:b] for a, b in zip([0, *points], [*points, len(stream)], strict=True)]
    assert parse(pieces) == parse([stream]) == reference(stream)


def test_cr_lf_split_between_pieces_is_one_line_end() -> None:
    assert parse([b"data: a\r", b"\ndata: b\r\n\r", b"\n"]) == [(None, b"a\nb")]


def parse_line_in(pieces: int, piece: bytes) -> float:
    parser = SSEParser(max_event=1 << 30)
    t0 = time.perf_counter()
    for _ in range(pieces):
        parser.feed(piece)
    parser.feed(b"\n\n")
    return time.perf_counter() - t0


def test_a_long_line_costs_time_linear_in_its_length() -> None:
    """Before: each piece re-copied the whole buffer (a 64 MB line took 18.7 s, doubling it 3.8x as long)."""
    piece = b"x" * (64 << 10)
    best = {n: min(parse_line_in(n, piece) for _ in range(3)) for n in (128, 512)}  # 8 MB, 32 MB
    # 4x the bytes: linear is ~4x the time, the old quadratic parser ~16x
    assert best[512] / best[128] < 8, best


def test_an_event_over_the_cap_is_refused_and_not_held() -> None:
    parser = SSEParser(max_event=1 << 20)
    fed = 0
    with pytest.raises(HubError) as err:
        while fed < 4 << 20:
            parser.feed(b"data: " + b"x" * 65536)
            fed += 65542
            assert parser.buffered <= 1 << 20
    assert (err.value.status, err.value.code) == (502, "upstream_event_too_large")
    assert fed <= (1 << 20) + 65542


def test_a_whole_event_over_the_cap_in_one_piece_is_refused() -> None:
    with pytest.raises(HubError):
        SSEParser(max_event=1000).feed(b"data: " + b"x" * 2000 + b"\n\n")
    assert SSEParser(max_event=1000).feed(b"data: " + b"x" * 900 + b"\n\n") == [(None, b"x" * 900)]
