"""blocklet.yml passes the official validator (npm ``@blocklet/meta``, installed in tests/js) and matches the
hub: its settings, its version, and ``BLOCKLET_PORT`` / ``BLOCKLET_DATA_DIR`` honoured by
``aigne-hub serve``."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "plugins"))

from hubtest_plugins.cli import AIGNE_HUB, cli_env
from hubtest_plugins.http import call

import hub_core
from hub_core.config import Settings
from hub_core.testing.server import free_port

ROOT = Path(__file__).resolve().parent.parent
JS_DIR = ROOT / "tests" / "js"
VALIDATOR = JS_DIR / "validate-blocklet.js"
HUB_DID = "z8ia3xzq2tMq8CRHfaXj1BTYJyYnEcHbqP8cJ"
# Set by the platform instead (BLOCKLET_DATA_DIR, BLOCKLET_PORT), meaningless behind its proxy, or a secret
# file, which the platform's secure environment variables replace.
PLATFORM_SETTINGS = {"AIGNE_HUB_DATA_DIR", "AIGNE_HUB_PORT", "AIGNE_HUB_HOST", "AIGNE_HUB_ADMIN_KEY_FILE"}
#: read for old deployments but not offered: the first-byte and idle timeouts replaced it
LEGACY_SETTINGS = {"AIGNE_HUB_UPSTREAM_READ_TIMEOUT"}


def validator_ready() -> None:
    """Skip without node or `npm ci` in tests/js, except where services are required (CI): fail there."""
    missing = []
    if shutil.which("node") is None:
        missing.append("node is not on PATH")
    if not (JS_DIR / "node_modules" / "@blocklet" / "meta").is_dir():
        missing.append("tests/js/node_modules is missing (run `make js`)")
    if not missing:
        return
    required = os.environ.get("AIGNE_HUB_REQUIRE_SERVICES") == "1" or os.environ.get("CI") == "true"
    (pytest.fail if required else pytest.skip)("blocklet validator unavailable: " + "; ".join(missing))


def validate(directory: Path) -> subprocess.CompletedProcess[str]:
    validator_ready()
    return subprocess.run(
        ["node", str(VALIDATOR), str(directory)], capture_output=True, text=True, timeout=120, cwd=JS_DIR
    )


@pytest.fixture(scope="module")
def blocklet() -> dict:
    result = validate(ROOT)
    assert result.returncode == 0, f"blocklet.yml is invalid:\n{result.stderr}"
    return json.loads(result.stdout)


def test_blocklet_yml_passes_the_official_validator_unchanged(blocklet):
    meta, raw = blocklet["meta"], blocklet["raw"]
    # The validator silently strips keys it does not know: every key written must survive.
    assert set(raw) <= set(meta), f"dropped by the validator: {sorted(set(raw) - set(meta))}"
    for key in ("capabilities", "timeout", "requirements", "scripts", "engine"):
        assert meta[key].items() >= raw[key].items(), key


def test_blocklet_identity_and_version(blocklet):
    meta = blocklet["meta"]
    assert (meta["name"], meta["did"], meta["title"], meta["group"]) == (
        "ai-kit",
        HUB_DID,
        "AIGNE Hub",
        "dapp",
    )
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert meta["version"] == pyproject["project"]["version"] == hub_core.__version__
    assert (ROOT / meta["main"]).is_file()
    assert meta["engine"]["interpreter"] == "binary" and meta["engine"]["args"] == ["serve"]
    assert meta["capabilities"] == {"clusterMode": True, "component": True, "navigation": True}
    # the discovery document says the same
    assert meta["did"] in (ROOT / "hub_core/web/api/meta.py").read_text()


def test_blocklet_serves_one_web_interface_on_blocklet_port(blocklet):
    (web,) = blocklet["meta"]["interfaces"]
    assert (web["type"], web["port"], web["prefix"], web["path"], web["protocol"]) == (
        "web",
        "BLOCKLET_PORT",
        "*",
        "/",
        "http",
    )


def test_blocklet_environments_are_the_hubs_settings_with_the_hubs_defaults(blocklet, monkeypatch):
    declared = {e["name"]: e for e in blocklet["meta"]["environments"]}
    named = re.findall(r'"(AIGNE_HUB_[A-Z_]+)"', (ROOT / "hub_core/config.py").read_text())
    read = {n for n in named if not n.endswith("_")}  # AIGNE_HUB_EXTRA_ is a prefix, not a setting
    assert {n for n in declared if n.startswith("AIGNE_HUB_")} == read - PLATFORM_SETTINGS - LEGACY_SETTINGS
    assert declared["AIGNE_HUB_SECRET_KEY"]["secure"] and declared["AIGNE_HUB_DATABASE_URL"]["secure"]
    assert declared["AIGNE_HUB_ADMIN_KEY"]["secure"]

    for name in read | set(declared):
        monkeypatch.delenv(name, raising=False)
    baseline = Settings.from_env()
    for name, env in declared.items():
        monkeypatch.setenv(name, env["default"])  # what the platform sets when the admin changes nothing
    assert Settings.from_env() == baseline


def test_the_validator_rejects_a_broken_blocklet_yml(tmp_path):
    """The validator is not a rubber stamp: the same file with one mistake fails, naming the field."""
    text = (ROOT / "blocklet.yml").read_text()

    def copy_with(name: str, old: str, new: str) -> Path:
        target = tmp_path / name
        for entry in ("hub_core", "plugins", "docs"):
            (target / entry).mkdir(parents=True)
        for entry in ("pyproject.toml", "uv.lock", "Makefile", "README.md"):
            (target / entry).write_text("")
        assert old in text
        (target / "blocklet.yml").write_text(text.replace(old, new, 1))
        return target

    assert validate(copy_with("same", "", "")).returncode == 0
    for name, old, new, field in (
        ("version", "version: 0.2.0", "version: one", '"version"'),
        ("prefix", "prefix: '*'", "prefix: ''", '"interfaces[0].prefix"'),
        ("missing-file", "  - Makefile", "  - Makefile.missing", "Makefile.missing"),
        ("env", "name: AIGNE_HUB_LOG_LEVEL", "name: BLOCKLET_LOG_LEVEL", "BLOCKLET_"),
    ):
        result = validate(copy_with(name, old, new))
        assert result.returncode == 1 and field in result.stderr, (name, result.stderr)


def test_settings_honour_blocklet_port_and_data_dir(monkeypatch, tmp_path):
    for name in ("AIGNE_HUB_DATA_DIR", "AIGNE_HUB_PORT", "AIGNE_HUB_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("BLOCKLET_PORT", "4321")
    monkeypatch.setenv("BLOCKLET_DATA_DIR", str(tmp_path / "blocklet"))
    settings = Settings.from_env()
    assert settings.port == 4321
    assert settings.data_dir == tmp_path / "blocklet"
    assert settings.database_url == f"sqlite://{tmp_path / 'blocklet' / 'hub.db'}"
    assert settings.key_file == tmp_path / "blocklet" / "secret.key"

    monkeypatch.setenv("AIGNE_HUB_DATA_DIR", str(tmp_path / "explicit"))  # an explicit setting wins
    assert Settings.from_env().data_dir == tmp_path / "explicit"


def test_serve_runs_as_a_blocklet_on_blocklet_port_and_data_dir(tmp_path):
    port, data = free_port(), tmp_path / "blocklet-data"
    log = tmp_path / "serve.out"
    env = cli_env(None, BLOCKLET_PORT=str(port), BLOCKLET_DATA_DIR=str(data), AIGNE_HUB_LOG_LEVEL="warning")
    with log.open("w") as out:
        proc = subprocess.Popen(
            [str(AIGNE_HUB), "serve"], env=env, stdout=out, stderr=subprocess.STDOUT, cwd=tmp_path
        )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if call("GET", f"{url}/-/health", timeout=2).status == 200:
                    break
            except OSError:
                pass
            assert proc.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "the hub did not come up on BLOCKLET_PORT"
            time.sleep(0.1)

        assert (data / "hub.db").is_file() and (data / "secret.key").is_file()
        # The first start prints the owner's admin key.
        admin_key = re.search(r"ahk-[A-Za-z0-9_\-]{40,}", log.read_text()).group(0)
        assert call("GET", f"{url}/api/admin/users", key=admin_key).status == 200
        discovery = call("GET", f"{url}/__blocklet__.js?type=json").body
        assert discovery["appId"] == HUB_DID
    finally:
        proc.send_signal(signal.SIGTERM)  # what the platform sends on stop
        try:
            code = proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
    assert code == 0, log.read_text()
    assert "Traceback" not in log.read_text()
