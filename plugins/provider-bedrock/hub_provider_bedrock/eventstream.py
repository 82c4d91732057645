"""AWS's binary event-stream framing (``application/vnd.amazon.eventstream``), decoded incrementally.

ConverseStream answers arrive in it: a length prelude, typed headers, the payload, and CRC32 checks
(``zlib.crc32``), each message carrying one JSON event.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from typing import Any

PRELUDE = 12  # total length, headers length, prelude CRC32 (4 bytes each, big-endian)
MAX_MESSAGE = 16 << 20  # AWS's limit on one message; more is garbage, not a frame to wait for
MAX_HEADERS = 128 << 10
#: header value types with a fixed size: byte, short, integer, long, timestamp (ms), uuid
FIXED_SIZES = {2: 1, 3: 2, 4: 4, 5: 8, 8: 8, 9: 16}


class EventStreamError(ValueError):
    """Bytes that are not a valid AWS event stream (bad CRC, impossible lengths, broken headers)."""


def _u32(data: bytes | bytearray, at: int) -> int:
    return int.from_bytes(data[at : at + 4], "big")


def _header_value(data: bytes, pos: int, kind: int) -> tuple[Any, int]:
    if kind in (0, 1):  # bool true / false: no value bytes
        return kind == 0, pos
    if kind in FIXED_SIZES:
        end = pos + FIXED_SIZES[kind]
        if end > len(data):
            raise EventStreamError("event-stream header value runs past the headers")
        raw = data[pos:end]
        return (raw.hex() if kind == 9 else int.from_bytes(raw, "big", signed=True)), end
    if kind in (6, 7):  # byte array / UTF-8 string, with a 2-byte length
        length = int.from_bytes(data[pos : pos + 2], "big")
        end = pos + 2 + length
        if end > len(data):
            raise EventStreamError("event-stream header value runs past the headers")
        raw = data[pos + 2 : end]
        try:
            return (raw.decode() if kind == 7 else bytes(raw)), end
        except UnicodeDecodeError as exc:
            raise EventStreamError("event-stream string header is not UTF-8") from exc
    raise EventStreamError(f"unknown event-stream header value type {kind}")


def parse_headers(data: bytes) -> dict[str, Any]:
    """``[name length (1)][name][value type (1)][value]`` repeated."""
    headers: dict[str, Any] = {}
    pos = 0
    while pos < len(data):
        end = pos + 1 + data[pos]
        if end >= len(data):
            raise EventStreamError("event-stream header name runs past the headers")
        try:
            name = data[pos + 1 : end].decode()
        except UnicodeDecodeError as exc:
            raise EventStreamError("event-stream header name is not UTF-8") from exc
        headers[name], pos = _header_value(data, end + 1, data[end])
    return headers


class EventStreamDecoder:
    """Incremental decoder of ``application/vnd.amazon.eventstream``: feed bytes as they arrive (a message may
    be split across reads, or several may arrive in one), get ``(headers, payload)`` per complete message.

    A message is a 12-byte prelude (total length, headers length, CRC32 of those 8 bytes), the headers, the
    payload and a CRC32 of everything before it; both CRCs are checked, and `EventStreamError` ends decoding.
    """

    def __init__(self) -> None:
        self._buf = bytearray()

    def feed(self, data: bytes) -> Iterator[tuple[dict[str, Any], bytes]]:
        self._buf += data
        while len(self._buf) >= PRELUDE:
            total, headers_len = _u32(self._buf, 0), _u32(self._buf, 4)
            if zlib.crc32(self._buf[0:8]) != _u32(self._buf, 8):
                raise EventStreamError("event-stream prelude CRC mismatch")
            if total < PRELUDE + 4 + headers_len or total > MAX_MESSAGE or headers_len > MAX_HEADERS:
                raise EventStreamError(
                    f"event-stream message with impossible lengths ({total}, {headers_len})"
                )
            if len(self._buf) < total:
                return
            message = bytes(self._buf[:total])
            del self._buf[:total]
            if zlib.crc32(message[:-4]) != _u32(message, total - 4):
                raise EventStreamError("event-stream message CRC mismatch")
            yield parse_headers(message[PRELUDE : PRELUDE + headers_len]), message[PRELUDE + headers_len : -4]

    @property
    def pending(self) -> int:
        """Bytes of an incomplete message still waiting for the rest."""
        return len(self._buf)
