"""The audit log page in real headless Chromium against a live hub (audit.mjs): a change made in the console
shows up on the page with its actor and before/after view, filters work, the page renders in both themes and
languages (docs/screenshots/audit-log-*.png), and a credits grant (a plugin's change) is there too."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hub_core.testing.fake_openai import FakeOpenAI
from hub_core.testing.server import HubServer

from .conftest import Browser, start_hub

pytestmark = pytest.mark.timeout(900)  # the first test may install Chromium and build the console


class AuditBrowser(Browser):
    script = "audit.mjs"


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory, ui_build: Path) -> Iterator[HubServer]:
    server = start_hub(tmp_path_factory.mktemp("console-audit"))
    yield server
    server.stop()


def test_a_console_change_appears_on_the_audit_log_page(
    chromium: str, hub: HubServer, slow_fake: FakeOpenAI, tmp_path_factory: pytest.TempPathFactory
) -> None:
    browser = AuditBrowser(chromium, hub, slow_fake, tmp_path_factory.mktemp("failures"))
    browser.run("userChange")
    browser.run("darkZh")


def test_a_credits_grant_in_the_console_appears_on_the_audit_log_page(
    chromium: str, hub: HubServer, slow_fake: FakeOpenAI, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The credits plugin records grants through the public ``hub.audit`` (runs after the test above, which
    created the user it grants to)."""
    browser = AuditBrowser(chromium, hub, slow_fake, tmp_path_factory.mktemp("failures"))
    browser.run("creditsGrant")
