"""Per-hub plugin state: an entry point that names a class gets one instance per hub, so two hubs in one
process (tests, an embedding app) never share a plugin's counters, caches or connections."""

from __future__ import annotations

import sys
from importlib.metadata import EntryPoint
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent / "plugins"))

from hubtest_plugins import installed
from hubtest_plugins.http import call, chat

from hub_core.testing.pytest_plugin import make_settings

PER_HUB = EntryPoint("hubtest_perhub", "hubtest_plugins.perhub:CallCounter", "aigne_hub")


def test_two_hubs_in_one_process_each_have_their_own_plugin_instance(
    hub_server_factory, tmp_path, fake_openai_thread
):
    hubs = []
    for name in ("a", "b"):
        server = hub_server_factory(
            make_settings(tmp_path / name), entry_points=[installed("openai"), PER_HUB]
        )
        server.add_provider(
            "openai", base_url=fake_openai_thread.base_url, credential=fake_openai_thread.api_key
        )
        hubs.append(server)
    a, b = hubs
    plugin_a, plugin_b = (h.hub.host.pm.get_plugin("hubtest_perhub") for h in hubs)
    assert plugin_a is not plugin_b
    assert plugin_a.hub is a.hub and plugin_b.hub is b.hub  # each knows its own hub

    key_a, key_b = a.create_key(), b.create_key()
    for _ in range(2):
        assert chat(a.url, "openai/gpt-4o-mini", key=key_a).status == 200
    assert chat(b.url, "openai/gpt-4o-mini", key=key_b).status == 200
    a.wait_for_calls(2)
    b.wait_for_calls(1)

    assert (plugin_a.calls, plugin_b.calls) == (2, 1)
    assert call("GET", f"{a.url}/hubtest-perhub/count").body == {"calls": 2}
    assert call("GET", f"{b.url}/hubtest-perhub/count").body == {"calls": 1}
    info = {p["name"]: p for p in call("GET", f"{a.url}/-/plugins", key=a.admin_key).body}["hubtest_perhub"]
    assert info["status"] == "enabled" and info["hooks"] == [
        "on_call_finished",
        "on_startup",
        "register_routes",
    ]


def test_a_plugin_class_that_cannot_be_instantiated_fails_alone():
    from hub_core.config import Settings
    from hub_core.hub import build_plugin_host

    broken = EntryPoint("hubtest_badclass", "hubtest_plugins.perhub:HubAPI", "aigne_hub")  # a Protocol
    host = build_plugin_host(Settings(), [installed("openai"), broken])
    assert host.infos["hubtest_badclass"].status == "failed"
    assert "TypeError" in (host.infos["hubtest_badclass"].error or "")
    assert host.infos["openai"].status == "enabled"
