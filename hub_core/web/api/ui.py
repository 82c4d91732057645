"""Serves the console (the React SPA built into ``ui/dist``) under the mount path, with a history fallback.

``index.html`` gets ``<base href="{mount}/">`` and a ``<meta name="aigne-hub-mount">`` tag, so the same build
works at ``/`` and under ``AIGNE_HUB_MOUNT_PATH`` (Vite builds with relative asset URLs). API-looking paths
never fall back to the SPA: an unknown ``/api/...`` is still a JSON 404.
"""

from __future__ import annotations

import html
import os
from pathlib import Path

from quart import Blueprint, Response, request
from werkzeug.routing import BaseConverter

import hub_core
from hub_core.errors import not_found
from hub_core.web.api.common import admin_error, as_hub_error, current_hub
from hub_core.web.assets import Asset, load, negotiate

bp = Blueprint("ui", __name__)

# Paths the SPA must never answer: API families, introspection, the discovery document.
API_PREFIXES = ("api/", "v1/", "v2/", "-/", "__blocklet__")
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data: blob: https: http:; connect-src 'self'; frame-ancestors 'none'; "
        "base-uri 'self'; form-action 'self'"
    ),
}
MISSING_BUILD = (
    "<!doctype html><meta charset=utf-8><title>AIGNE Hub</title>"
    "<h1>AIGNE Hub</h1><p>The console is not built. Run <code>make ui</code> "
    "(or <code>cd ui &amp;&amp; npm ci &amp;&amp; npm run build</code>) and reload.</p>"
)


class SpaPathConverter(BaseConverter):
    """Any path except the API families, so those keep their own 404/405 answers."""

    regex = r"(?!api/|v1/|v2/|-/|__blocklet__)[^\x00]*"
    part_isolating = False


@bp.record_once
def _register_converter(state: object) -> None:
    state.app.url_map.converters.setdefault("spa", SpaPathConverter)  # type: ignore[attr-defined]


@bp.errorhandler(Exception)
async def _error(exc: Exception) -> Response:
    return admin_error(as_hub_error(exc))


def ui_dist() -> Path:
    """``AIGNE_HUB_UI_DIR``, else the console built into the wheel (``hub_core/ui_dist``, package data), else
    the checkout's ``ui/dist`` next to the ``hub_core`` package (an editable install)."""
    configured = os.environ.get("AIGNE_HUB_UI_DIR")
    if configured:
        return Path(configured)
    package = Path(hub_core.__file__).resolve().parent
    packaged = package / "ui_dist"
    return packaged if packaged.is_dir() else package.parent / "ui" / "dist"


_index_cache: dict[tuple[str, int, str], Asset] = {}


def render_index(dist: Path, mount: str) -> Asset | None:
    """``index.html`` with the mount path injected, as an `Asset` (validators, gzip) per build and mount."""
    index = dist / "index.html"
    try:
        stat = index.stat()
    except FileNotFoundError:
        return None
    cache_key = (str(index), stat.st_mtime_ns, mount)
    if cache_key not in _index_cache:
        attr = html.escape(mount, quote=True)
        head = f'<head>\n    <base href="{attr}/">\n    <meta name="aigne-hub-mount" content="{attr}">'
        body = index.read_text(encoding="utf-8").replace("<head>", head, 1)
        _index_cache.clear()
        _index_cache[cache_key] = Asset.of(body.encode(), stat.st_mtime, compressible=True)
    return _index_cache[cache_key]


def _headers(extra: dict[str, str] | None = None) -> dict[str, str]:
    return {**SECURITY_HEADERS, **(extra or {})}


@bp.get("/")
@bp.get("/<spa:path>")
async def spa(path: str = "") -> Response:
    if path.startswith(API_PREFIXES):
        raise not_found("Not found")
    dist = ui_dist()
    if path:
        asset = _asset(dist, path)
        if asset is not None:
            return _file_response(asset, immutable=path.startswith("assets/"))
        if path.startswith("assets/") or "." in path.rsplit("/", 1)[-1]:
            raise not_found("Not found")  # a missing file is a 404, not the SPA
    index = render_index(dist, current_hub().settings.mount_path)
    if index is None:
        return Response(MISSING_BUILD, status=503, content_type="text/html", headers=_headers())
    return _answer(index, "text/html; charset=utf-8", "no-cache")


def _asset(dist: Path, path: str) -> Path | None:
    """The file under ``dist`` for a URL path, refusing anything that escapes it."""
    try:
        candidate = (dist / path).resolve()
        candidate.relative_to(dist.resolve())
        found = candidate.is_file()
    except (ValueError, OSError):  # outside dist; a NUL; a name too long for the file system (a 500 before)
        return None
    return candidate if found and candidate.name != "index.html" else None


CONTENT_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".json": "application/json",
    ".woff2": "font/woff2",
    ".txt": "text/plain; charset=utf-8",
}


def _file_response(path: Path, immutable: bool) -> Response:
    # hashed names under assets/ never change content: a year, no revalidation; the rest revalidates (304)
    cache = "public, max-age=31536000, immutable" if immutable else "no-cache"
    return _answer(load(path), CONTENT_TYPES.get(path.suffix, "application/octet-stream"), cache)


def _answer(asset: Asset, content_type: str, cache: str) -> Response:
    _, variant, headers = negotiate(request, asset)
    headers = _headers({**headers, "Cache-Control": cache})
    if variant is None:
        return Response(b"", status=304, headers=headers)
    resp = Response(variant.body, content_type=content_type, headers=headers)
    if request.method == "HEAD":
        resp.set_data(b"")  # the headers (length included) of the GET answer, without its body
        resp.headers["Content-Length"] = str(len(variant.body))
    return resp
