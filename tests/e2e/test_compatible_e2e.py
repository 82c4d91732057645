"""OpenAI-compatible endpoints without code, added from the console in real headless Chromium against a live
hub whose endpoint is the repo's fake OpenAI upstream (compatible.mjs)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hub_core.testing.fake_openai import FakeOpenAI
from hub_core.testing.server import HubServer

from .conftest import Browser, start_hub

pytestmark = pytest.mark.timeout(900)  # the first test may install Chromium and build the console


class CompatibleBrowser(Browser):
    script = "compatible.mjs"


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory, ui_build: Path) -> Iterator[HubServer]:
    server = start_hub(tmp_path_factory.mktemp("console-compatible"))
    yield server
    server.stop()


def test_an_admin_adds_an_endpoint_in_the_console_and_calls_it(
    chromium: str, hub: HubServer, slow_fake: FakeOpenAI, tmp_path_factory: pytest.TempPathFactory
) -> None:
    browser = CompatibleBrowser(chromium, hub, slow_fake, tmp_path_factory.mktemp("failures"))
    browser.extra_env["MEMBER_KEY"] = hub.create_key("member-user", role="member")
    browser.run("addEndpoint")
