"""Bugs 13, 16 and 17 of issue 16 and the playground's Video tab, in real headless Chromium (bugs.mjs) against
a live hub whose OpenAI provider is the fake run the way bug 17 was found: ``python -m
hub_core.testing.fake_openai PORT``, a separate process.

Scenarios run in file order on one hub: `setup` configures the provider; the catalogue-status check needs a
hub no call has reached yet, so it comes first."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from hub_core.testing import free_port
from hub_core.testing.server import HubServer

from .conftest import ROOT, Browser, start_hub

pytestmark = pytest.mark.timeout(900)  # the first test may install Chromium and build the console


@dataclass
class SubprocessFake:
    """What `Browser` reads of a fake upstream: its URL and key (this one takes any key)."""

    base_url: str
    api_key: str | None = None


class BugsBrowser(Browser):
    script = "bugs.mjs"


@pytest.fixture(scope="module")
def fake_process() -> Iterator[SubprocessFake]:
    """``python -m hub_core.testing.fake_openai PORT``, as a developer starts it by hand."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "hub_core.testing.fake_openai", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()  # "fake OpenAI on http://127.0.0.1:PORT/v1" once it listens
        assert line.startswith("fake OpenAI on "), f"{line!r} {proc.stderr.read() if proc.stderr else ''}"
        yield SubprocessFake(line.removeprefix("fake OpenAI on ").strip())
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        # the 500 of bug 17 was a NameError inside the request handler: the process's log would show it
        stderr = proc.stderr.read() if proc.stderr else ""
        assert "Traceback" not in stderr, stderr[-3000:]


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory, ui_build: Path) -> Iterator[HubServer]:
    server = start_hub(tmp_path_factory.mktemp("console-bugs"))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def bugs(
    chromium: str, hub: HubServer, fake_process: SubprocessFake, tmp_path_factory: pytest.TempPathFactory
) -> BugsBrowser:
    browser = BugsBrowser(chromium, hub, fake_process, tmp_path_factory.mktemp("failures"))  # type: ignore[arg-type]
    browser.run("setup")
    return browser


def test_catalogue_status_is_null_until_a_call_then_available(bugs: BugsBrowser) -> None:
    """Bug 16, second half: docs/aigne-api.md said the catalogue's status is always null."""
    bugs.run("catalogueStatus")
    text = (ROOT / "docs" / "aigne-api.md").read_text()
    assert "`status` is `null` until a call or check through the hub reached the model" in text


def test_a_login_token_cookie_alone_gets_the_sign_in_page_and_401(bugs: BugsBrowser) -> None:
    """Bug 16: the docs said the original hub's `login_token` cookie is accepted; the hub refuses it on
    purpose, and the docs now say so."""
    bugs.run("loginTokenCookie")
    said = {
        "aigne-api.md": "A raw key in a cookie (the original hub's `login_token`) is deliberately refused",
        "ui.md": "(a raw key in a cookie, the original hub's `login_token`, is refused on purpose)",
    }
    for doc, sentence in said.items():
        assert sentence in " ".join((ROOT / "docs" / doc).read_text().split()), doc


def test_editing_a_provider_in_the_console_keeps_its_credentials(bugs: BugsBrowser) -> None:
    """Bug 13: ``PUT /api/ai-providers/:id`` answered ``"credentials": []``."""
    bugs.run("providerEdit")


def test_playground_image_and_a_page_side_image_edit_through_the_subprocess_fake(
    bugs: BugsBrowser, hub: HubServer
) -> None:
    """Bug 17: the fake run as a module answered ``/images/edits`` with a 500. The playground has no image
    edit: it generates an image, and the edit is posted from the signed-in page."""
    bugs.run("imageThroughSubprocessFake")
    kinds = [(c["kind"], c["status"]) for c in hub.calls(provider="openai") if c["kind"] == "image"]
    assert kinds[-2:] == [("image", "success"), ("image", "success")], kinds


def test_playground_video_tab_runs_a_job_and_shows_the_clip_or_the_error(
    bugs: BugsBrowser, hub: HubServer
) -> None:
    bugs.run("videoTab")
    videos = [c for c in hub.calls(provider="openai") if c["kind"] == "video"]
    assert videos and videos[0]["status"] == "success", videos
    assert float(videos[0]["seconds"]) == 8


def test_playground_video_tab_in_both_themes_and_languages_passes_the_contrast_check(
    bugs: BugsBrowser,
) -> None:
    bugs.run("videoThemes", timeout=300)
