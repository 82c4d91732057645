"""Plugin settings drawn from a plugin's ``config_schema``: the admin API validates and stores them, and
every hub instance sharing the database hands them to the plugin without a restart."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "plugins"))

from hubtest_plugins import entry_point, installed
from hubtest_plugins.http import call

from hub_core.testing.pytest_plugin import make_settings

PLUGIN = "hubtest_settings"


@pytest.fixture
def hub(hub_server_factory, hub_settings, fake_openai_thread):
    server = hub_server_factory(hub_settings, entry_points=[installed("openai"), entry_point("settings")])
    server.add_provider("openai", base_url=fake_openai_thread.base_url, credential=fake_openai_thread.api_key)
    return server


def config_url(server, name: str = PLUGIN) -> str:
    return f"{server.url}/api/admin/plugins/{name}/config"


def test_the_schema_is_listed_with_the_plugin_and_defaults_apply_before_anything_is_stored(hub):
    plugins = {p["name"]: p for p in call("GET", f"{hub.url}/api/admin/plugins", key=hub.admin_key).body}
    schema = plugins[PLUGIN]["configSchema"]
    assert schema["required"] == ["greeting"] and schema["properties"]["mode"]["enum"] == ["fast", "careful"]
    assert plugins["openai"]["configSchema"] is None

    got = call("GET", config_url(hub), key=hub.admin_key)
    assert got.status == 200, got.text
    assert got.body["values"] == {}
    assert got.body["effective"] == {"mode": "fast", "limit": 10, "verbose": False}


def test_settings_are_validated_naming_the_field(hub):
    cases = [
        ({"greeting": 5}, "greeting", "greeting must be a string"),
        ({"greeting": "hi", "mode": "slow"}, "mode", 'mode must be one of "fast", "careful"'),
        ({"greeting": "hi", "limit": 1.5}, "limit", "limit must be an integer"),
        ({"greeting": "hi", "limit": True}, "limit", "limit must be an integer"),
        ({"greeting": "hi", "ratio": "x"}, "ratio", "ratio must be a number"),
        ({"greeting": "hi", "verbose": 1}, "verbose", "verbose must be a boolean"),
        ({"greeting": "hi", "colour": "red"}, "colour", "colour is not a setting of this plugin"),
        ({"mode": "careful"}, "greeting", "greeting is required"),
    ]
    for body, param, message in cases:
        bad = call("PUT", config_url(hub), key=hub.admin_key, json_body=body)
        assert bad.status == 400, (body, bad.text)
        assert param in bad.error["message"]
        assert (bad.error["code"], bad.error["message"]) == ("invalid_request", message)
    assert call("PUT", config_url(hub), key=hub.admin_key, json_body=["x"]).status == 400
    # nothing was stored by the refused attempts
    assert call("GET", config_url(hub), key=hub.admin_key).body["values"] == {}


def test_unknown_plugins_and_plugins_without_settings_are_404(hub):
    missing = call("GET", config_url(hub, "nosuch"), key=hub.admin_key)
    assert missing.status == 404 and "nosuch" in missing.error["message"]
    none = call("PUT", config_url(hub, "openai"), key=hub.admin_key, json_body={})
    assert none.status == 404 and "no settings" in none.error["message"]


def test_settings_are_admin_only(hub):
    member = hub.create_key(role="member")
    assert call("GET", config_url(hub), key=member).status == 403
    assert call("PUT", config_url(hub), key=member, json_body={"greeting": "hi"}).status == 403
    assert call("GET", config_url(hub)).status == 401
    assert call("GET", config_url(hub), key=hub.create_key(role="admin")).status == 200


def test_saved_settings_persist_and_reach_the_plugin(hub):
    body = {"greeting": "hello", "mode": "careful", "limit": 3, "ratio": 0.5, "verbose": True}
    saved = call("PUT", config_url(hub), key=hub.admin_key, json_body=body)
    assert saved.status == 200, saved.text
    assert saved.body["values"] == body and saved.body["effective"] == body
    assert hub.hub.host.config(PLUGIN) == body
    # the plugin reads them per request (its own route)
    assert call("GET", f"{hub.url}/hubtest-settings/greeting", key=hub.admin_key).body == body

    # null clears a value: its default applies again
    cleared = call("PUT", config_url(hub), key=hub.admin_key, json_body={**body, "limit": None})
    assert cleared.body["effective"]["limit"] == 10 and "limit" not in cleared.body["values"]
    assert call("GET", config_url(hub), key=hub.admin_key).body["values"] == {
        k: v for k, v in body.items() if k != "limit"
    }


def test_a_change_on_one_instance_reaches_another_running_instance(
    hub_server_factory, tmp_path, pg_url, fake_openai_thread
):
    eps = [installed("openai"), entry_point("settings")]
    first = hub_server_factory(make_settings(tmp_path / "a", database_url=pg_url), entry_points=eps)
    second = hub_server_factory(make_settings(tmp_path / "b", database_url=pg_url), entry_points=eps)
    assert second.hub.host.config(PLUGIN)["mode"] == "fast"

    saved = call(
        "PUT", config_url(first), key=first.admin_key, json_body={"greeting": "hi", "mode": "careful"}
    )
    assert saved.status == 200, saved.text
    deadline = time.monotonic() + 10
    while second.hub.host.config(PLUGIN).get("mode") != "careful":
        assert time.monotonic() < deadline, "the second instance never saw the new settings"
        time.sleep(0.05)
    assert second.hub.host.config(PLUGIN)["greeting"] == "hi"
    read = call("GET", f"{second.url}/hubtest-settings/greeting", key=second.admin_key)
    assert read.body["mode"] == "careful"
    # and after a restart the stored values are loaded again
    third = hub_server_factory(make_settings(tmp_path / "c", database_url=pg_url), entry_points=eps)
    assert third.hub.host.config(PLUGIN) == {
        "greeting": "hi",
        "mode": "careful",
        "limit": 10,
        "verbose": False,
    }
