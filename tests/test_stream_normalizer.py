"""The OpenAI-dialect stream normalizer reads a piece made of plain ``data:`` events in one pass (a fast path:
under load a whole answer often arrives as one piece). Whatever the upstream sends and however the socket
splits it, the chunks, the usage, the end-of-answer check and the errors must be the same as event by event.
"""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

from hub_core.errors import HubError
from hub_core.providers import openai_compat
from hub_core.providers.openai_compat import OpenAIChatNormalizer

BASE = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4o-mini"}
USAGE = {"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10}


def data(obj: Any) -> bytes:
    return b"data: " + json.dumps(obj, separators=(",", ":")).encode() + b"\n\n"


def chunk(content: str | None = "hi", finish: str | None = None, usage: Any = None) -> dict[str, Any]:
    delta = {} if content is None else {"content": content}
    return {**BASE, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}], "usage": usage}


EVENTS = [
    data(chunk("hello")),
    data(chunk(' "quoted" \\n text')),
    data(chunk("é ünïcode ✓")),
    data(chunk(None, "stop")),
    data({**BASE, "choices": [], "usage": USAGE}),  # the usage-only chunk
    data(chunk("both", usage=USAGE)),  # usage on a content chunk
    data({**chunk("nested"), "extra": {"usage": USAGE}}),  # "usage":null and a usage object in one chunk
    data(chunk("spaced")).replace(b'"usage":null', b'"usage" : null'),
    data(chunk('usage as text: "usage":{} "error": x')),  # escaped inside a string: not a usage or error
    b"data: [DONE]\n\n",
    b"data: \n\n",  # an empty event
    b": keep-alive comment\n\n",
    b"event: ping\ndata: {}\n\n",
    b'data: {"choices":[]}\r\n\r\n',
    b'data: {"a":\ndata: 1}\n\n',  # one event over two data lines
    b"data:" + json.dumps(chunk("no space")).encode() + b"\n\n",
    data({"error": {"message": "upstream broke", "type": "server_error"}}),
    data({**chunk("x"), "error": {"message": "mid-stream failure", "code": 502}}),
    b"data: {not json\n\n",
]


def run(pieces: list[bytes]) -> list[Any]:
    """Everything a caller can observe, piece by piece."""
    norm = OpenAIChatNormalizer()
    seen: list[Any] = []
    for piece in [*pieces, None]:
        try:
            out = norm.feed(piece) if piece is not None else norm.finish()
        except HubError as exc:
            seen.append(("raised", exc.status, exc.code, exc.message))
            break
        # what the relay reads before anyone iterates (the fast path makes its chunks only when read)
        seen.append((len(out), bool(out), repr(norm.usage), norm.saw_usage, norm._finished))
        seen.append([(c.raw, c.usage_only, c._data) for c in out])
        err = norm.pending_error
        seen.append(None if err is None else (err.status, err.code, err.message))
        if err is not None:
            break
    seen.append((norm.usage, norm.saw_usage, norm._finished, norm._saw_event))
    return seen


def split(raw: bytes, rng: random.Random, at_events: bool) -> list[bytes]:
    if at_events:
        blocks = raw.split(b"\n\n")
        cuts = sorted(rng.sample(range(1, len(blocks)), min(3, len(blocks) - 1))) if len(blocks) > 1 else []
        pieces, last = [], 0
        for cut in [*cuts, len(blocks)]:
            pieces.append(b"\n\n".join(blocks[last:cut]) + (b"\n\n" if cut < len(blocks) else b""))
            last = cut
        return [p for p in pieces if p]
    cuts = sorted(rng.sample(range(1, len(raw)), min(4, len(raw) - 1)))
    return [raw[a:b] for a, b in zip([0, *cuts], [*cuts, len(raw)], strict=True)]


@pytest.mark.parametrize("seed", range(300))
def test_plain_event_pieces_read_like_event_by_event(seed, monkeypatch):
    rng = random.Random(seed)
    weights = [12, 3, 2, 2, 2, 1, 1, 1, 1, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1]
    raw = b"".join(rng.choices(EVENTS, weights=weights, k=rng.randint(1, 30)))
    pieces = split(raw, rng, at_events=seed % 3 != 0)

    fast = run(pieces)
    monkeypatch.setattr(openai_compat, "plain_payloads", lambda _data: None)  # event by event only
    assert fast == run(pieces)


def test_a_whole_answer_in_one_piece_takes_the_fast_path(monkeypatch):
    parts = [data(chunk("a")), data(chunk("b")), data(chunk(None, "stop"))]
    answer = b"".join(parts) + b"data: [DONE]\n\n"
    split_at_once = []
    real = openai_compat.plain_payloads
    monkeypatch.setattr(openai_compat, "plain_payloads", lambda d: split_at_once.append(real(d)) or real(d))
    norm = OpenAIChatNormalizer()
    assert [c.raw for c in norm.feed(answer)] == [p[6:-2] for p in parts]
    assert norm.finish() == [] and norm.pending_error is None  # ended by finish_reason and [DONE]
    assert split_at_once == [[p[6:-2] for p in parts] + [b"[DONE]"]]


@pytest.mark.parametrize("seed", range(40))
def test_plain_pieces_pass_through_as_the_renderer_would_write_them(seed):
    """The bytes kept for a plain piece (`Chunks.sse`) are exactly what the OpenAI renderer writes for its
    chunks one by one, and the content count is what counting them gives."""
    from hub_core.web.api.openai_v1 import OpenAISSE

    rng = random.Random(seed)
    plain = [  # one-line data events without errors: the pieces the fast path takes
        e
        for e in EVENTS
        if e.startswith(b"data: {") and e.count(b"\n") == 2 and e.endswith(b"}\n\n") and b'"error' not in e
    ]
    events = rng.sample(plain, rng.randint(1, len(plain)))
    if rng.random() < 0.5:
        events.append(b"data: [DONE]\n\n")
    chunks = OpenAIChatNormalizer().feed(b"".join(events))
    one_by_one = b"".join(b"data: " + c.to_bytes() + b"\n\n" for c in chunks)
    assert chunks.sse is not None  # every such piece takes the fast path
    assert OpenAISSE(wants_usage=True).chunks(chunks) == one_by_one
    assert chunks.content == len([c for c in chunks if not c.usage_only])


def test_the_openai_renderer_never_makes_the_chunk_objects():
    """Relaying a same-dialect stream to an OpenAI client reads only the piece's bytes, its number of
    chunks and its usage; the chunk objects are made only for a renderer that reads them."""
    from hub_core.web.api.openai_v1 import OpenAISSE

    parts = [
        data(chunk("a")),
        data(chunk("b")),
        data(chunk(None, "stop")),
        data({**BASE, "choices": [], "usage": USAGE}),
    ]
    answer = b"".join(parts) + b"data: [DONE]\n\n"
    norm = OpenAIChatNormalizer()
    chunks = norm.feed(answer)
    assert OpenAISSE(wants_usage=True).chunks(chunks) == b"".join(parts)
    assert (len(chunks), bool(chunks), chunks.content) == (4, True, 3)
    assert (norm.usage.input_tokens, norm.usage.output_tokens, norm.saw_usage) == (7, 3, True)
    assert chunks._pending is not None  # nothing made yet
    assert [c.usage_only for c in chunks] == [False, False, False, True]  # made when read
    assert chunks._pending is None and chunks[3].data["usage"] == USAGE and len(list(chunks)) == 4
