"""Incremental Server-Sent Events parsing, fed with whatever byte pieces the socket delivers."""

from __future__ import annotations


class SSEParser:
    """Splits a byte stream into `(event, data)` pairs. Comments and `id:`/`retry:` lines are dropped."""

    __slots__ = ("_buf",)

    def __init__(self) -> None:
        self._buf = b""

    def feed(self, data: bytes) -> list[tuple[str | None, bytes]]:
        buf = self._buf + data if self._buf else data
        if b"\r" in buf:
            buf = buf.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        events: list[tuple[str | None, bytes]] = []
        start = 0
        while True:
            end = buf.find(b"\n\n", start)
            if end < 0:
                break
            block = buf[start:end]
            start = end + 2
            if block.startswith(b"data: ") and b"\n" not in block:
                events.append((None, block[6:]))  # the common case (as in `_parse_block`), without the call
                continue
            parsed = _parse_block(block)
            if parsed is not None:
                events.append(parsed)
        self._buf = buf[start:] if start < len(buf) else b""
        return events

    @property
    def idle(self) -> bool:
        """No partial event is waiting for more bytes."""
        return not self._buf

    def finish(self) -> list[tuple[str | None, bytes]]:
        rest, self._buf = self._buf.strip(), b""
        parsed = _parse_block(rest) if rest else None
        return [parsed] if parsed is not None else []


def _parse_block(block: bytes) -> tuple[str | None, bytes] | None:
    if block.startswith(b"data: ") and b"\n" not in block:
        return None, block[6:]  # the common case: one data line
    event: str | None = None
    data: list[bytes] = []
    for line in block.split(b"\n"):
        if not line or line.startswith(b":"):
            continue
        field, _, value = line.partition(b":")
        if value.startswith(b" "):
            value = value[1:]
        if field == b"data":
            data.append(value)
        elif field == b"event":
            event = value.decode(errors="replace")
    if not data and event is None:
        return None
    return event, b"\n".join(data)


def plain_payloads(data: bytes) -> list[bytes] | None:
    """The payloads of a piece made only of whole one-line ``data: ...`` events (how OpenAI-style upstreams
    write, often a whole answer per piece under load): what `SSEParser.feed` returns for it from an idle
    parser, found with one split instead of event by event. None for anything else (comments, ``event:``
    lines, multi-line data, CR line ends, a cut-off event)."""
    if data.find(b"\r") >= 0 or not data.startswith(b"data: ") or not data.endswith(b"\n\n"):
        return None
    payloads = data[6:-2].split(b"\n\ndata: ")
    # every newline must be one of the separators' or the end's: then each payload is one whole line
    return payloads if data.count(b"\n") == 2 * len(payloads) else None
