"""Incremental Server-Sent Events parsing, fed with whatever byte pieces the socket delivers.

Linear in the bytes fed: a piece is scanned once for an event's end and kept as it is until one arrives, so
an upstream that never ends a line costs memory up to the cap, not time (joining the buffer on every piece
took 18.7 s for a 64 MB line and stalled every other call; docs/security.md).
"""

from __future__ import annotations

from hub_core.errors import HubError

#: the most bytes one event (and so any of its lines) may take before the stream is refused; the gateway's
#: own cap (`AIGNE_HUB_UPSTREAM_MAX_EVENT_SIZE`, any stream format) is usually lower
MAX_EVENT_BYTES = 64 << 20


class SSEParser:
    """Splits a byte stream into `(event, data)` pairs. Comments and `id:`/`retry:` lines are dropped.

    An event longer than `max_event` bytes raises `HubError` 502 ``upstream_event_too_large``."""

    __slots__ = ("_cr", "_nl", "_parts", "_size", "max_event")

    def __init__(self, max_event: int = MAX_EVENT_BYTES) -> None:
        self._parts: list[bytes] = []  # the pieces of an event not ended yet, line ends made LF
        self._size = 0  # their length
        self._nl = False  # they end with a line end: a piece that starts with one ends the event
        self._cr = False  # the last piece ended with CR: a LF that starts the next one belongs to it
        self.max_event = max_event

    def feed(self, data: bytes) -> list[tuple[str | None, bytes]]:
        if self._cr:
            self._cr = False
            if data[:1] == b"\n":
                data = data[1:]
        if data.find(b"\r") >= 0:
            self._cr = data.endswith(b"\r")
            data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        if not data:
            return []
        if self._parts:
            # only the new bytes are searched; the pending ones were, when they arrived
            if not (self._nl and data[0] == 10) and data.find(b"\n\n") < 0:
                self._keep(data)
                return []
            self._parts.append(data)
            buf = b"".join(self._parts)  # once per event, not once per piece
            self._parts, self._size = [], 0
        else:
            buf = data
        events: list[tuple[str | None, bytes]] = []
        start = 0
        max_event = self.max_event
        while True:
            end = buf.find(b"\n\n", start)
            if end < 0:
                break
            if end - start > max_event:
                raise event_too_large(max_event)
            block = buf[start:end]
            start = end + 2
            if block.startswith(b"data: ") and b"\n" not in block:
                events.append((None, block[6:]))  # the common case (as in `_parse_block`), without the call
                continue
            parsed = _parse_block(block)
            if parsed is not None:
                events.append(parsed)
        if start < len(buf):
            self._keep(buf[start:] if start else buf)
        return events

    def _keep(self, data: bytes) -> None:
        self._parts.append(data)
        self._size += len(data)
        self._nl = data[-1] == 10
        if self._size > self.max_event:
            raise event_too_large(self.max_event)

    @property
    def idle(self) -> bool:
        """No partial event is waiting for more bytes."""
        return not self._parts

    @property
    def buffered(self) -> int:
        """Bytes of a partial event waiting for the rest."""
        return self._size

    def finish(self) -> list[tuple[str | None, bytes]]:
        rest = b"".join(self._parts).strip()
        self._parts, self._size, self._nl, self._cr = [], 0, False, False
        parsed = _parse_block(rest) if rest else None
        return [parsed] if parsed is not None else []


def event_too_large(limit: int) -> HubError:
    return HubError(
        502,
        "upstream_event_too_large",
        f"Upstream sent a stream event over {limit} bytes without ending it",
        type="upstream_error",
    )


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
