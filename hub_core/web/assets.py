"""Static files as browsers expect them: read once per file version, a strong ``ETag`` and ``Last-Modified``,
conditional ``304`` answers, and the smallest encoding the browser accepts (Brotli and gzip files the console
build writes next to each asset, gzip made once in memory otherwise).

Used by the console blueprint (``hub_core.web.api.ui``); the SPA's ``index.html`` goes through `negotiate`
too, with its body rendered per mount path.
"""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass, field
from email.utils import formatdate, parsedate_to_datetime
from pathlib import Path

from quart import Request

#: below this size compression is not worth a header (and some tiny files grow)
MIN_COMPRESS = 512
COMPRESSIBLE = (".js", ".css", ".svg", ".html", ".json", ".txt", ".map", ".ico")


@dataclass
class Variant:
    body: bytes
    encoding: str | None  # Content-Encoding, None for the bytes as they are


@dataclass
class Asset:
    """One file version: its encodings, the validators, and the time it changed (seconds)."""

    etag: str
    mtime: float
    variants: dict[str, Variant] = field(default_factory=dict)

    @classmethod
    def of(
        cls, body: bytes, mtime: float, compressible: bool, siblings: dict[str, bytes] | None = None
    ) -> Asset:
        asset = cls(etag=hashlib.sha256(body).hexdigest()[:32], mtime=mtime)
        asset.variants["identity"] = Variant(body, None)
        if compressible and len(body) >= MIN_COMPRESS:
            siblings = siblings or {}
            if "br" in siblings:
                asset.variants["br"] = Variant(siblings["br"], "br")
            asset.variants["gzip"] = Variant(siblings.get("gzip") or gzip.compress(body, 9, mtime=0), "gzip")
        return asset


_files: dict[Path, tuple[tuple[int, int], Asset]] = {}


def load(path: Path) -> Asset:
    """The file as an `Asset`, cached until its size or modification time changes. Precompressed ``.br`` and
    ``.gz`` siblings are used only when at least as new as the file (a stale one would serve old code)."""
    stat = path.stat()
    key = (stat.st_mtime_ns, stat.st_size)
    cached = _files.get(path)
    if cached is not None and cached[0] == key:
        return cached[1]
    siblings = {}
    for encoding, suffix in (("br", ".br"), ("gzip", ".gz")):
        sibling = path.with_name(path.name + suffix)
        try:
            if sibling.stat().st_mtime_ns >= stat.st_mtime_ns:
                siblings[encoding] = sibling.read_bytes()
        except FileNotFoundError:
            pass
    asset = Asset.of(path.read_bytes(), stat.st_mtime, path.suffix in COMPRESSIBLE, siblings)
    _files[path] = (key, asset)
    return asset


def negotiate(request: Request, asset: Asset) -> tuple[int, Variant | None, dict[str, str]]:
    """(status, variant or None for a 304, headers) for `request`: ``If-None-Match`` first (weak
    comparison, as RFC 9110 asks for GET), else ``If-Modified-Since``; then the encoding by the
    ``Accept-Encoding`` qualities, Brotli before gzip before the plain bytes."""
    variant = _choose(request, asset)
    tag = asset.etag if variant.encoding is None else f"{asset.etag}-{variant.encoding}"
    headers = {"ETag": f'"{tag}"', "Last-Modified": formatdate(asset.mtime, usegmt=True)}
    if len(asset.variants) > 1:
        headers["Vary"] = "Accept-Encoding"
    if variant.encoding:
        headers["Content-Encoding"] = variant.encoding
    if _not_modified(request, asset):
        return 304, None, headers
    return 200, variant, headers


def _choose(request: Request, asset: Asset) -> Variant:
    accepted = request.accept_encodings
    best, quality = asset.variants["identity"], 0.0
    for name in ("br", "gzip"):
        q = accepted.quality(name) if name in asset.variants else 0
        if q > quality:
            best, quality = asset.variants[name], q
    return best


def _not_modified(request: Request, asset: Asset) -> bool:
    match = request.headers.get("If-None-Match")
    if match is not None:
        tags = {t.strip().removeprefix("W/").strip('"') for t in match.split(",")}
        # any encoding's tag names the same content
        return "*" in tags or any(t.split("-", 1)[0] == asset.etag for t in tags)
    since = request.headers.get("If-Modified-Since")
    if since:
        try:
            return int(asset.mtime) <= parsedate_to_datetime(since).timestamp()
        except (TypeError, ValueError):
            return False
    return False
