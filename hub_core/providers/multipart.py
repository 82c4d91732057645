"""``multipart/form-data`` bodies for upstream calls that take files (OpenAI's Videos and Image edits)."""

from __future__ import annotations

import secrets
from collections.abc import Iterable

#: (form field name, file name, content type, bytes)
FilePart = tuple[str, str, str, bytes]


def _header_value(value: str) -> str:
    # names and file names come from callers: no quote or line break may end the header early
    return value.replace("\\", "_").replace('"', "_").replace("\r", "_").replace("\n", "_")


def form_data(fields: Iterable[tuple[str, str]], files: Iterable[FilePart] = ()) -> tuple[bytes, str]:
    """A ``multipart/form-data`` body and its content type, as OpenAI's SDKs send it. A field or file name
    may repeat (``image[]`` for several images)."""
    boundary = "----aignehub" + secrets.token_hex(12)
    out = bytearray()
    for name, value in fields:
        out += (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{_header_value(name)}"\r\n\r\n'.encode()
        )
        out += value.encode() + b"\r\n"
    for name, filename, mime, data in files:
        out += (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{_header_value(name)}"; '
            f'filename="{_header_value(filename)}"\r\nContent-Type: {_header_value(mime)}\r\n\r\n'
        ).encode()
        out += data + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return bytes(out), f"multipart/form-data; boundary={boundary}"
