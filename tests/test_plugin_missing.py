"""A model whose provider plugin is missing, failed to load or is left out answers 503
``provider_unavailable`` saying which and why, in each API dialect's own error shape, instead of 404
``model_not_found``."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent / "plugins"))

import anthropic
import openai
from hubtest_plugins import entry_point, installed
from hubtest_plugins.http import call, chat

from hub_core.testing.pytest_plugin import make_settings

MESSAGES = [{"role": "user", "content": "hello"}]


def test_a_model_of_a_plugin_that_failed_to_load_says_so_in_every_dialect(hub_server_factory, hub_settings):
    # the third party's acme plugin is installed, but its import fails (a missing dependency)
    server = hub_server_factory(
        hub_settings, entry_points=[installed("openai"), entry_point("broken", "acme")]
    )
    key = server.create_key()

    answer = chat(server.url, "acme/acme-small", key=key)
    assert answer.status == 503, answer.text
    assert answer.error["code"] == "provider_unavailable" and answer.error["param"] == "model"
    message = answer.error["message"]
    assert message.startswith(
        "Provider 'acme' is unavailable: its plugin 'acme' failed to load: ModuleNotFoundError"
    )
    assert "hubtest_missing_dependency" in message

    client = openai.OpenAI(base_url=f"{server.url}/v1", api_key=key, max_retries=0)
    try:
        client.chat.completions.create(model="acme:acme-small", messages=MESSAGES)
    except openai.APIStatusError as exc:
        assert exc.status_code == 503 and exc.body["code"] == "provider_unavailable"
    else:
        raise AssertionError("the OpenAI SDK call succeeded")

    claude = anthropic.Anthropic(base_url=server.url, api_key=key, max_retries=0)
    try:
        claude.messages.create(model="acme/acme-small", max_tokens=10, messages=MESSAGES)
    except anthropic.APIStatusError as exc:
        assert exc.status_code == 503 and exc.body["type"] == "error"
        assert "failed to load" in exc.body["error"]["message"]
    else:
        raise AssertionError("the Anthropic SDK call succeeded")

    aigne = call(
        "POST",
        f"{server.url}/api/v2/chat/completions",
        key=key,
        json_body={"model": "acme/acme-small", "messages": MESSAGES},
    )
    assert aigne.status == 503 and "failed to load" in aigne.text and "provider_unavailable" in aigne.text

    # a model of no plugin at all is still "not found"
    assert chat(server.url, "nosuchvendor/x", key=key).error["code"] == "model_not_found"


def test_a_configured_provider_whose_plugin_was_uninstalled_says_so(hub_server_factory, tmp_path):
    with_plugin = hub_server_factory(
        make_settings(tmp_path / "data"), entry_points=[installed("openai"), entry_point("acme")]
    )
    with_plugin.add_provider("acme", credential="acme-1234567890")
    with_plugin.stop()

    # the same hub after `pip uninstall` of the plugin
    without = hub_server_factory(make_settings(tmp_path / "data"), entry_points=[installed("openai")])
    answer = chat(without.url, "acme/acme-small", key=without.create_key())
    assert answer.status == 503 and answer.error["code"] == "provider_unavailable"
    assert "no installed plugin provides it" in answer.error["message"]
    without.stop()

    # or after an upgrade broke it, under a plugin name unlike the provider's: every failed plugin is named
    eps = [installed("openai"), entry_point("broken", "hub_acme")]
    broken = hub_server_factory(make_settings(tmp_path / "data"), entry_points=eps)
    message = chat(broken.url, "acme/acme-small", key=broken.create_key()).error["message"]
    assert message.endswith("plugins that failed to load (see /-/plugins): hub_acme")


def test_a_model_of_a_plugin_left_out_by_load_plugins_says_so(hub_server_factory, hub_settings):
    settings = hub_settings.with_(load_plugins=frozenset({"openai"}))
    server = hub_server_factory(settings, entry_points=[installed("openai"), entry_point("acme", "acme")])
    answer = chat(server.url, "acme/acme-small", key=server.create_key())
    assert answer.status == 503 and answer.error["code"] == "provider_unavailable"
    assert "its plugin 'acme' is not loaded (not listed in AIGNE_HUB_LOAD_PLUGINS)" in answer.error["message"]
