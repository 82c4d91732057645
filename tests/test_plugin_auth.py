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


# --- a JWT auth plugin on the public users service ----------------------------------------------------------

SIGNING_KEY = "jwt-signing-key-0123456789"
ISSUER = "https://idp.example"


@pytest.fixture
def jwt_hub(hub_server_factory, hub_settings):
    server = hub_server_factory(hub_settings, entry_points=[installed("openai"), entry_point("jwt_auth")])
    url = f"{server.url}/api/admin/plugins/hubtest_jwt_auth/config"
    assert call("PUT", url, key=server.admin_key, json_body={"signing_key": SIGNING_KEY}).status == 200
    return server


def who(server, token: str):
    return call("GET", f"{server.url}/api/auth/session", key=token)


def test_a_jwt_plugin_creates_the_user_on_first_sign_in_and_finds_it_after(jwt_hub):
    from hubtest_plugins.jwt_auth import make_token

    token = make_token(
        {"iss": ISSUER, "sub": "u-123", "name": "Carol", "email": "carol@example.com"}, SIGNING_KEY
    )
    first = who(jwt_hub, token)
    assert first.status == 200, first.text
    again = who(jwt_hub, token)
    assert again.body["user"]["id"] == first.body["user"]["id"] and again.body["user"]["name"] == "Carol"

    users = jwt_hub.hub.users
    found = jwt_hub.run(lambda: users.find(identity=(ISSUER, "u-123")))
    assert found is not None and (found.id, found.email, found.role) == (
        first.body["user"]["id"],
        "carol@example.com",
        "member",
    )
    assert jwt_hub.run(lambda: users.find(email="carol@example.com")) == found
    assert jwt_hub.run(lambda: users.find(did=found.did)) == found

    # a forged token, another issuer, or a token while unconfigured never authenticates
    assert who(jwt_hub, make_token({"iss": ISSUER, "sub": "u-123"}, "another-key-0123456789")).status == 401
    assert who(jwt_hub, make_token({"iss": "https://evil.example", "sub": "x"}, SIGNING_KEY)).status == 401
    assert who(jwt_hub, jwt_hub.admin_key).status == 200  # access keys still go to key_auth


def test_an_existing_user_is_mapped_to_an_external_identity(jwt_hub):
    from hubtest_plugins.jwt_auth import make_token

    from hub_core import HubError

    users = jwt_hub.hub.users
    dave = jwt_hub.run(
        lambda: users.get_or_create("did:example:dave", "Dave", "dave@example.com", role="admin")
    )
    assert jwt_hub.run(lambda: users.get_or_create("did:example:dave", "Someone else")) == dave  # unchanged
    jwt_hub.run(lambda: users.link(ISSUER, "dave-sub", dave))
    answer = who(jwt_hub, make_token({"iss": ISSUER, "sub": "dave-sub"}, SIGNING_KEY))
    assert answer.status == 200
    assert (answer.body["user"]["id"], answer.body["user"]["role"]) == (dave.id, "admin")

    erin = jwt_hub.run(lambda: users.get_or_create("did:example:erin", "Erin"))
    with pytest.raises(HubError) as taken:
        jwt_hub.run(lambda: users.link(ISSUER, "dave-sub", erin))
    assert taken.value.code == "identity_taken"
    with pytest.raises(HubError) as owner:
        jwt_hub.run(lambda: users.get_or_create("did:example:boss", "Boss", role="owner"))
    assert owner.value.status == 400  # a plugin never mints an owner

    # a disabled user is refused even with a valid token
    put = call(
        "PUT", f"{jwt_hub.url}/api/admin/users/{dave.id}", key=jwt_hub.admin_key, json_body={"disabled": True}
    )
    assert put.status == 200
    refused = who(jwt_hub, make_token({"iss": ISSUER, "sub": "dave-sub"}, SIGNING_KEY))
    assert refused.status == 401 and "disabled" in refused.error["message"]


def test_the_jwt_plugin_counts_as_a_way_in_only_once_configured(hub_server_factory, hub_settings):
    server = hub_server_factory(hub_settings, entry_points=[installed("openai"), entry_point("jwt_auth")])
    assert toggle(server, "key_auth", False).error["code"] == "last_auth_plugin"
    url = f"{server.url}/api/admin/plugins/hubtest_jwt_auth/config"
    assert call("PUT", url, key=server.admin_key, json_body={"signing_key": SIGNING_KEY}).status == 200
    assert toggle(server, "key_auth", False).status == 200
