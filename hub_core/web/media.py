"""Files the hub generated (images, videos), kept in ``<data_dir>/media`` under unguessable names and served
without credentials at ``<mount>/media/<name>``: the random name is the capability, so AIGNE clients can
download results with a plain GET, as they do from the original hub's Media Kit."""

from __future__ import annotations

import asyncio
import base64
import binascii
import os
import re
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

from quart import Blueprint, Response, request, send_file

from hub_core.errors import HubError, not_found
from hub_core.infra.files import private_dir, write_private_bytes
from hub_core.web.api.common import aigne_error, as_hub_error, current_hub

bp = Blueprint("media", __name__)

NAME_RE = re.compile(r"^[A-Za-z0-9_-]{32}\.[a-z0-9]{2,5}$")
EXTENSIONS = {
    "image/png": "png",
    "image/jpeg": "jpg",
    "image/webp": "webp",
    "image/gif": "gif",
    "video/mp4": "mp4",
    "video/webm": "webm",
    "audio/mpeg": "mp3",
    "audio/wav": "wav",
}
MIME_OF = {ext: mime for mime, ext in EXTENSIONS.items()}
SIGNATURES = ((b"\x89PNG", "image/png"), (b"\xff\xd8\xff", "image/jpeg"), (b"GIF8", "image/gif"))


class MediaStore:
    """Write-once files in one directory; names are 24 random bytes, URL-safe, plus an extension."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def save(self, data: bytes, mime: str) -> str:
        private_dir(self.root)
        name = f"{secrets.token_urlsafe(24)}.{EXTENSIONS.get(mime, 'bin')}"
        tmp = self.root / f".{name}.tmp"
        write_private_bytes(tmp, data)
        os.replace(tmp, self.root / name)  # readers never see a half-written file
        return name

    async def save_async(self, data: bytes, mime: str) -> str:
        return await asyncio.to_thread(self.save, data, mime)

    def path_of(self, name: str) -> Path | None:
        if not NAME_RE.match(name):
            return None
        path = self.root / name
        return path if path.is_file() else None


def store() -> MediaStore:
    return MediaStore(current_hub().settings.media_dir)


def sniff(data: bytes, default: str = "image/png") -> str:
    for magic, mime in SIGNATURES:
        if data.startswith(magic):
            return mime
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[4:8] == b"ftyp":
        return "video/mp4"
    return default


def decode_base64(data: str) -> bytes:
    try:
        return base64.b64decode(data, validate=False)
    except (binascii.Error, ValueError) as exc:
        raise HubError(502, "upstream_malformed", "Upstream sent an image that is not base64") from exc


def public_base() -> str:
    """The hub's external URL including the mount path. Proxies' X-Forwarded-* headers win, so links work
    behind a TLS-terminating reverse proxy."""
    proto = request.headers.get("x-forwarded-proto", request.scheme).split(",")[0].strip()
    host = request.headers.get("x-forwarded-host", request.host).split(",")[0].strip()
    return f"{proto}://{host}{current_hub().settings.mount_path}"


def media_url(name: str) -> str:
    return f"{public_base()}/media/{name}"


def file_entries(output: str) -> Callable[[list[str]], list[dict[str, Any]]]:
    """How a chat answer's generated files (``data:`` URLs or URLs) become AIGNE file entries: stored and
    linked (``output == "url"``) or inline base64 (``"file"``). Bound to the request up front, because a
    stream's end is rendered after the request context is gone; the files are small (chat images), so the
    synchronous write there is fine."""
    root, base = store(), public_base()

    def entries(urls: list[str]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for url in urls:
            if not (url.startswith("data:") and ";base64," in url):
                out.append({"type": "url", "url": url})
                continue
            head, data = url.split(",", 1)
            mime = head[5:].split(";", 1)[0] or "application/octet-stream"
            if output == "file":
                out.append({"type": "file", "data": data, "mimeType": mime})
            else:
                name = root.save(decode_base64(data), mime)
                out.append({"type": "url", "url": f"{base}/media/{name}", "mimeType": mime})
        return out

    return entries


@bp.errorhandler(Exception)
async def _error(exc: Exception) -> Response:
    return aigne_error(as_hub_error(exc))


@bp.get("/media/<name>")
async def serve(name: str) -> Response:
    path = store().path_of(name)
    if path is None:
        raise not_found("File not found")
    ext = name.rsplit(".", 1)[1]
    response = await send_file(path, mimetype=MIME_OF.get(ext, "application/octet-stream"), conditional=True)
    response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
