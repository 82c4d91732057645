"""Fixtures for the browser tests: Debian's Chromium (installed with apt-get when missing), the built console,
a fake OpenAI upstream and a live hub, all shared by the scenarios of one module."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from hub_core.testing.fake_openai import FakeOpenAI
from hub_core.testing.pytest_plugin import make_settings
from hub_core.testing.server import HubServer

ROOT = Path(__file__).resolve().parents[2]
UI = ROOT / "ui"
SCREENSHOTS = ROOT / "docs" / "screenshots"
CHROMIUM = "/usr/bin/chromium"


def _unavailable(reason: str) -> None:
    """CI must run these tests; a developer machine without the tools skips them with the reason."""
    if os.environ.get("CI") or os.environ.get("AIGNE_HUB_REQUIRE_SERVICES"):
        pytest.fail(reason)
    pytest.skip(reason)


CJK_FONT = Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")


def ensure_chromium() -> str:
    """Debian's Chromium, plus a CJK font so the Chinese screenshots show characters, not boxes."""
    found = shutil.which("chromium") or (CHROMIUM if os.path.exists(CHROMIUM) else None)
    packages = ([] if found else ["chromium"]) + ([] if CJK_FONT.exists() else ["fonts-wqy-zenhei"])
    if not packages:
        return str(found)
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        if found:
            return found  # the font only makes screenshots nicer
        _unavailable("Chromium is missing: run `apt-get install -y chromium` (needs root)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", *packages]):
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900)
        if done.returncode != 0 and not found:
            pytest.fail(f"{' '.join(cmd)} failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return shutil.which("chromium") or CHROMIUM


def ensure_ui_build() -> None:
    """`npm ci` when node_modules is missing, `npm run build` when dist is older than the sources."""
    if not shutil.which("npm") or not shutil.which("node"):
        _unavailable("node and npm are needed for the console tests")
    if not (UI / "node_modules" / "playwright-core").exists():
        _run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"])
    index = UI / "dist" / "index.html"
    sources = [p for d in ("src", "public") for p in (UI / d).rglob("*") if p.is_file()]
    sources += [UI / "index.html", UI / "vite.config.ts", UI / "package-lock.json"]
    newest = max(p.stat().st_mtime for p in sources)
    if not index.exists() or index.stat().st_mtime < newest:
        _run(["npm", "run", "build"])


def _run(cmd: list[str]) -> None:
    done = subprocess.run(cmd, cwd=UI, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        pytest.fail(f"{' '.join(cmd)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")


@pytest.fixture(scope="session")
def chromium() -> str:
    return ensure_chromium()


@pytest.fixture(scope="session")
def ui_build() -> Path:
    ensure_ui_build()
    return UI / "dist"


@pytest.fixture(scope="module")
def slow_fake() -> Iterator[FakeOpenAI]:
    """The fake upstream, streaming one word every 30 ms so a browser can watch (and stop) a stream."""
    with FakeOpenAI(chunk_delay=0.03).in_thread() as fake:
        yield fake


def start_hub(tmp: Path, **overrides: object) -> HubServer:
    return HubServer(make_settings(tmp / "data", **overrides)).start()


class Browser:
    """Runs one scenario of a script (console.mjs by default) against a hub and reports its output."""

    script = "console.mjs"

    def __init__(self, chromium: str, hub: HubServer, fake: FakeOpenAI, failures: Path) -> None:
        self.chromium, self.hub, self.fake, self.failures = chromium, hub, fake, failures
        self.extra_env: dict[str, str] = {}

    def run(self, scenario: str, timeout: float = 150) -> str:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        env = {
            **os.environ,
            "HUB_URL": self.hub.url,
            "ADMIN_KEY": self.hub.admin_key,
            "FAKE_URL": self.fake.base_url,
            "FAKE_KEY": self.fake.api_key or "",
            "CHROMIUM": self.chromium,
            "SCREENSHOTS": str(SCREENSHOTS),
            "FAILURES": str(self.failures),
            **self.extra_env,
        }
        script = Path(__file__).with_name(self.script)
        done = subprocess.run(
            ["node", str(script), scenario], env=env, capture_output=True, text=True, timeout=timeout
        )
        if done.returncode != 0:
            pytest.fail(
                f"browser scenario {scenario!r} failed (screenshot in {self.failures}):\n"
                f"{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
            )
        return done.stdout


@pytest.fixture(scope="module")
def hub(
    tmp_path_factory: pytest.TempPathFactory, ui_build: Path, slow_fake: FakeOpenAI
) -> Iterator[HubServer]:
    """A hub for one test module's console scenarios, on the module's slow fake upstream."""
    server = start_hub(tmp_path_factory.mktemp("console"))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def browser(
    request: pytest.FixtureRequest,
    chromium: str,
    hub: HubServer,
    slow_fake: FakeOpenAI,
    tmp_path_factory: pytest.TempPathFactory,
) -> Browser:
    """The scenario runner of the module (its ``BROWSER`` class, `Browser` by default), with a member key."""
    kind = getattr(request.module, "BROWSER", Browser)
    b = kind(chromium, hub, slow_fake, tmp_path_factory.mktemp("failures"))
    b.extra_env["MEMBER_KEY"] = hub.create_key("member-user", role="member")
    return b
