"""The hub serves the console: assets, the history fallback with the mount path injected, and API paths that
keep answering like APIs (JSON 404s, not the SPA)."""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from email.message import Message
from pathlib import Path

import pytest

from hub_core.testing.pytest_plugin import make_settings
from hub_core.testing.server import HubServer

INDEX = (
    '<!doctype html><html><head><meta charset="UTF-8"><title>AIGNE Hub</title>'
    '<script type="module" src="./assets/app-1234.js"></script></head>'
    '<body><div id="root"></div></body></html>'
)


BIG_JS = "export const words = [" + ",".join(f'"word{i}"' for i in range(400)) + "];\n"


def fetch(
    url: str, method: str = "GET", body: bytes | None = None, headers: dict[str, str] | None = None
) -> tuple[int, Message, bytes]:
    headers = {**({"Content-Type": "application/json"} if body is not None else {}), **(headers or {})}
    req = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as err:
        return err.code, err.headers, err.read()


@pytest.fixture
def dist(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "dist"
    (root / "assets").mkdir(parents=True)
    (root / "index.html").write_text(INDEX)
    (root / "assets" / "app-1234.js").write_text("console.log('console');")
    (root / "favicon.svg").write_text("<svg/>")
    bundle = root / "assets" / "big-5678.js"
    bundle.write_text(BIG_JS)
    # what the build's precompress step writes: a stand-in Brotli body (the hub sends the file as it is)
    (root / "assets" / "big-5678.js.br").write_bytes(b"brotli-bytes")
    (tmp_path / "secret.txt").write_text("not for the web")
    monkeypatch.setenv("AIGNE_HUB_UI_DIR", str(root))
    return root


@pytest.fixture
def served(dist: Path, tmp_path: Path, request: pytest.FixtureRequest):
    mount = getattr(request, "param", "")
    server = HubServer(make_settings(tmp_path / "data", mount_path=mount)).start()
    yield server
    server.stop()


def test_index_and_deep_links_get_the_spa_with_the_mount_path(served: HubServer):
    for path in ("/", "/console/providers", "/playground?x=1", "/signin"):
        status, headers, body = fetch(served.url + path)
        assert status == 200, path
        assert headers["Content-Type"].startswith("text/html")
        html = body.decode()
        assert '<base href="/">' in html and '<meta name="aigne-hub-mount" content="">' in html
        assert headers["Cache-Control"] == "no-cache"
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]


def test_assets_are_served_with_long_caching(served: HubServer):
    status, headers, body = fetch(served.url + "/assets/app-1234.js")
    assert status == 200 and body == b"console.log('console');"
    assert headers["Content-Type"].startswith("text/javascript")
    assert "immutable" in headers["Cache-Control"]
    status, headers, _ = fetch(served.url + "/favicon.svg")
    assert status == 200 and headers["Content-Type"] == "image/svg+xml"


def test_validators_and_conditional_answers(served: HubServer):
    """ETag and Last-Modified on every file and on index.html; a matching revalidation is a bodiless 304."""
    for path in ("/assets/app-1234.js", "/favicon.svg", "/", "/console/usage"):
        status, headers, body = fetch(served.url + path)
        etag, modified = headers["ETag"], headers["Last-Modified"]
        assert status == 200 and etag.startswith('"') and modified.endswith("GMT"), path
        status, again, body = fetch(served.url + path, headers={"If-None-Match": etag})
        assert (status, body, again["ETag"]) == (304, b"", etag), path
        assert again["Cache-Control"] == headers["Cache-Control"], path
        assert fetch(served.url + path, headers={"If-Modified-Since": modified})[0] == 304, path
        assert fetch(served.url + path, headers={"If-None-Match": '"other"'})[0] == 200, path
        old = "Mon, 01 Jan 2001 00:00:00 GMT"
        assert fetch(served.url + path, headers={"If-Modified-Since": old})[0] == 200, path


def test_compressed_as_the_browser_accepts(served: HubServer):
    import gzip

    url = served.url + "/assets/big-5678.js"
    status, headers, body = fetch(url, headers={"Accept-Encoding": "gzip, deflate, br"})
    assert (status, headers["Content-Encoding"], body) == (200, "br", b"brotli-bytes")  # precompressed
    assert headers["Vary"] == "Accept-Encoding" and "immutable" in headers["Cache-Control"]
    status, headers, body = fetch(url, headers={"Accept-Encoding": "gzip"})
    assert headers["Content-Encoding"] == "gzip" and gzip.decompress(body).decode() == BIG_JS
    assert len(body) < len(BIG_JS) / 3
    status, headers, body = fetch(url, headers={"Accept-Encoding": "br;q=0, gzip;q=0"})
    assert "Content-Encoding" not in headers and body.decode() == BIG_JS
    # a revalidation carrying the compressed variant's tag still matches the same content
    br_tag = fetch(url, headers={"Accept-Encoding": "br"})[1]["ETag"]
    assert fetch(url, headers={"Accept-Encoding": "gzip", "If-None-Match": br_tag})[0] == 304
    # a small file is sent as it is
    _, headers, body = fetch(served.url + "/favicon.svg", headers={"Accept-Encoding": "gzip, br"})
    assert "Content-Encoding" not in headers and body == b"<svg/>"


def test_a_stale_precompressed_file_is_not_served(served: HubServer, dist: Path):
    import time

    time.sleep(0.01)
    (dist / "assets" / "big-5678.js").write_text(BIG_JS + "// rebuilt\n")  # newer than its .br
    _, headers, _ = fetch(served.url + "/assets/big-5678.js", headers={"Accept-Encoding": "br, gzip"})
    assert headers["Content-Encoding"] == "gzip"


def test_missing_files_and_escapes_are_404_not_the_spa(served: HubServer):
    assert fetch(served.url + "/assets/gone.js")[0] == 404
    assert fetch(served.url + "/robots.txt")[0] == 404
    assert fetch(served.url + "/%2e%2e/secret.txt")[0] == 404
    assert fetch(served.url + "/assets/..%2f..%2fsecret.txt")[0] == 404


def test_api_paths_still_answer_like_apis(served: HubServer):
    status, headers, body = fetch(served.url + "/api/does-not-exist")
    assert status == 404 and headers["Content-Type"] == "application/json"
    assert json.loads(body)["error"]["code"] == "not_found"
    # writes to unknown API paths are 404 too (the SPA's catch-all only takes non-API paths)
    assert fetch(served.url + "/api/does-not-exist", "POST", b"{}")[0] == 404
    assert fetch(served.url + "/v1/nope")[0] == 404
    status, _, body = fetch(served.url + "/-/health")
    assert status == 200 and json.loads(body)["status"] == "ok"
    status, _, body = fetch(served.url + "/v1/models")
    assert status == 401 and "error" in json.loads(body)


@pytest.mark.parametrize("served", ["/hub"], indirect=True)
def test_under_a_mount_path(served: HubServer):
    base = served.url  # ends with /hub
    status, _, body = fetch(base + "/console/plugins")
    assert status == 200
    assert '<base href="/hub/">' in body.decode() and 'content="/hub"' in body.decode()
    assert fetch(base + "/assets/app-1234.js")[0] == 200
    assert fetch(base + "/-/health")[0] == 200
    root = base.removesuffix("/hub")
    assert fetch(root + "/console/plugins")[0] == 404  # nothing outside the mount path


def test_a_missing_build_explains_itself(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("AIGNE_HUB_UI_DIR", str(tmp_path / "nowhere"))
    server = HubServer(make_settings(tmp_path / "data")).start()
    try:
        status, _, body = fetch(server.url + "/")
        assert status == 503 and b"make ui" in body
    finally:
        server.stop()


def test_the_real_build_is_served(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """`make setup` builds ui/dist; every asset index.html names must come back from the hub."""
    monkeypatch.delenv("AIGNE_HUB_UI_DIR", raising=False)
    real = Path(__file__).resolve().parents[1] / "ui" / "dist" / "index.html"
    if not real.exists():
        if os.environ.get("CI"):
            pytest.fail("ui/dist is missing: `make setup` should have built the console")
        pytest.skip("the console is not built (run `make ui`)")
    server = HubServer(make_settings(tmp_path / "data")).start()
    try:
        status, _, body = fetch(server.url + "/console")
        html = body.decode()
        assert status == 200 and 'name="aigne-hub-mount"' in html
        import re

        assets = re.findall(r'(?:src|href)="\./(assets/[^"]+)"', html)
        assert assets
        for asset in assets:
            assert fetch(f"{server.url}/{asset}")[0] == 200, asset
        # the build precompresses its bundle; the hub sends the Brotli file to browsers that accept it
        js = next(a for a in assets if a.endswith(".js"))
        _, headers, body = fetch(f"{server.url}/{js}", headers={"Accept-Encoding": "gzip, deflate, br"})
        dist = real.parent
        assert headers["Content-Encoding"] == "br" and body == (dist / f"{js}.br").read_bytes()
        assert len(body) < (dist / js).stat().st_size / 3
    finally:
        server.stop()
