"""The console in real headless Chromium against a live hub and a fake OpenAI upstream.

Scenarios run in file order and build on each other, as a newcomer would: sign in, add a provider and
credential, toggle a plugin, chat, generate an image, create and revoke a key, look at usage and credits.
Each writes screenshots of its pages to docs/screenshots/.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hub_core.testing.fake_openai import FakeOpenAI
from hub_core.testing.server import HubServer

from .conftest import Browser, start_hub

pytestmark = pytest.mark.timeout(900)  # the first test may install Chromium and build the console


def _json_lines(out: str) -> dict:
    merged: dict = {}
    for line in out.splitlines():
        if line.startswith("{"):
            merged.update(json.loads(line))
    return merged


def test_sign_in_and_out(browser: Browser) -> None:
    browser.run("signin")


def test_add_provider_and_credentials(browser: Browser, hub: HubServer, slow_fake: FakeOpenAI) -> None:
    browser.run("provider")

    async def stored() -> list[tuple[str, str]]:
        from hub_core.db import models as m

        return [(c.masked, c.ciphertext) for c in await m.Credential.all()]

    creds = hub.run(stored)
    assert len(creds) == 2
    for masked, ciphertext in creds:
        assert slow_fake.api_key not in masked and slow_fake.api_key not in ciphertext


def test_disabling_a_plugin_fails_calls_until_enabled(browser: Browser) -> None:
    out = _json_lines(browser.run("plugins"))
    assert out["disabledStatus"] >= 400


def test_playground_streams_and_stops(browser: Browser, hub: HubServer) -> None:
    browser.run("playground")
    rows = hub.wait_for_calls(2, endpoint="/v1/chat/completions", stream=True)
    assert rows[0]["status"] == "success" and rows[0]["output_tokens"] > 40
    assert rows[1]["status"] == "aborted"  # the stop button cancelled the upstream stream


def test_playground_image_and_embeddings(browser: Browser, hub: HubServer) -> None:
    browser.run("image")
    assert hub.wait_for_calls(1, kind="image")[0]["status"] == "success"
    assert hub.wait_for_calls(1, kind="embedding")[0]["status"] == "success"


def test_create_and_revoke_key(browser: Browser) -> None:
    browser.run("keys")


def test_usage_analytics_finds_the_calls(browser: Browser) -> None:
    out = _json_lines(browser.run("usage"))
    assert out["usage"] == "found-call" and out["csvLines"] >= 5


def test_model_rates(browser: Browser, hub: HubServer) -> None:
    browser.run("rates")

    async def stored() -> list[tuple[str, str, str]]:
        from hub_core.db import models as m

        return [(r.model, str(r.input_rate), str(r.output_rate)) for r in await m.ModelRate.all()]

    (model, input_rate, output_rate), *_ = hub.run(stored)
    assert model == "gpt-4o-mini"
    assert float(input_rate) == 150 / 1_000_000 and float(output_rate) == 800 / 1_000_000


def test_grant_credits_and_charge_a_call(browser: Browser) -> None:
    browser.run("credits")


def test_member_sees_own_keys_and_balance(browser: Browser) -> None:
    browser.extra_env["EXPECT_CREDITS"] = "1"
    browser.run("member")


def test_public_pricing_page(browser: Browser) -> None:
    browser.run("pricing")


def test_chinese(browser: Browser) -> None:
    browser.run("chinese")


def test_phone_width(browser: Browser) -> None:
    browser.run("phone")


def test_console_under_a_mount_path(
    chromium: str, slow_fake: FakeOpenAI, ui_build: Path, tmp_path: Path
) -> None:
    server = start_hub(tmp_path, mount_path="/hub")
    try:
        Browser(chromium, server, slow_fake, tmp_path).run("mounted")
    finally:
        server.stop()
