"""Auth plugins as a third party writes them: the "last auth plugin" guard counts only plugins that can
authenticate someone (their ``can_authenticate``), so an admin cannot lock everyone out by disabling the
access-key plugin while the other one is installed but unconfigured."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "plugins"))

from hubtest_plugins import entry_point, installed
from hubtest_plugins.http import call


@pytest.fixture
def hub(hub_server_factory, hub_settings):
    return hub_server_factory(hub_settings, entry_points=[installed("openai"), entry_point("gatekeeper")])


def toggle(server, name: str, enabled: bool):
    return call(
        "PUT", f"{server.url}/api/admin/plugins/{name}", key=server.admin_key, json_body={"enabled": enabled}
    )


def test_an_unconfigured_auth_plugin_does_not_count_as_a_way_in(hub):
    refused = toggle(hub, "key_auth", False)
    assert refused.status == 409 and refused.error["code"] == "last_auth_plugin"
    assert "can authenticate" in refused.error["message"]

    # once the admin configured it, it can authenticate, and key_auth may be switched off
    url = f"{hub.url}/api/admin/plugins/hubtest_gatekeeper/config"
    assert call("PUT", url, key=hub.admin_key, json_body={"password": "s3cret-pass"}).status == 200
    assert hub.hub.host.can_authenticate("hubtest_gatekeeper") is True
    assert toggle(hub, "key_auth", False).status == 200

    # and the configured plugin is now the last way in (asked of the service: the admin key no longer works)
    from hub_core.admin.plugin_state import set_plugin_enabled
    from hub_core.errors import HubError

    with pytest.raises(HubError) as refused_again:
        hub.run(lambda: set_plugin_enabled(hub.settings, hub.hub.host, "hubtest_gatekeeper", False))
    assert refused_again.value.code == "last_auth_plugin"


def test_can_authenticate_may_be_a_bool_and_a_broken_answer_counts_as_cannot(hub):
    host = hub.hub.host
    plugin = host.pm.get_plugin("hubtest_gatekeeper")
    assert host.can_authenticate("key_auth") is True  # says nothing: believed
    original = plugin.can_authenticate
    try:
        plugin.can_authenticate = True
        assert host.can_authenticate("hubtest_gatekeeper") is True

        def broken(config):
            raise RuntimeError("vault unreachable")

        plugin.can_authenticate = broken
        assert host.can_authenticate("hubtest_gatekeeper") is False
    finally:
        plugin.can_authenticate = original
