"""Plugin settings drawn from a plugin's ``config_schema``: the admin API validates and stores them, and
every hub instance sharing the database hands them to the plugin without a restart."""

from __future__ import annotations

import json
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


# --- the whole JSON schema, by a maintained validator ------------------------------------------------------


def test_every_keyword_of_the_schema_is_enforced_not_only_types(hub):
    # a plugin author declares maxLength / minimum / minLength and relies on them: a 400 naming the field
    cases = [
        (
            {"greeting": "x" * 41},
            "greeting",
            "greeting: 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx' is too long",
        ),
        ({"greeting": "hi", "limit": 0}, "limit", "limit: 0 is less than the minimum of 1"),
    ]
    for body, param, message in cases:
        bad = call("PUT", config_url(hub), key=hub.admin_key, json_body=body)
        assert bad.status == 400, (body, bad.text)
        assert param in bad.error["message"] and bad.error["message"] == message
    short = call("PUT", config_url(hub), key=hub.admin_key, json_body={"greeting": "hi", "api_token": "abc1"})
    assert short.status == 400
    assert short.error["message"] == "api_token does not satisfy minLength 8"  # the secret is not echoed
    assert call("GET", config_url(hub), key=hub.admin_key).body["values"] == {}


def test_a_plugin_whose_schema_is_not_json_schema_fails_to_load_with_the_reason():
    from hub_core.config import Settings
    from hub_core.hub import build_plugin_host

    host = build_plugin_host(Settings(), [entry_point("badschema")])
    info = host.infos["hubtest_badschema"]
    assert info.status == "failed"
    assert "config_schema is not a valid JSON schema" in (info.error or "") and "minLength" in info.error


# --- secret settings -------------------------------------------------------------------------------------

TOKEN = "tok-very-secret-1234567890"


def stored_row(server) -> str:
    import sqlite3

    server.calls()  # the hub's writes are flushed
    with sqlite3.connect(server.settings.data_dir / "hub.db") as conn:
        (value,) = conn.execute(
            "SELECT value FROM hub_state WHERE key = ?", ("plugin_config:" + PLUGIN,)
        ).fetchone()
    return value


def test_a_secret_setting_is_encrypted_at_rest_masked_in_the_api_and_clear_to_the_plugin(hub, capfd):
    saved = call("PUT", config_url(hub), key=hub.admin_key, json_body={"greeting": "hi", "api_token": TOKEN})
    assert saved.status == 200, saved.text
    assert saved.body["secretFields"] == ["api_token"]
    assert saved.body["values"] == {"greeting": "hi", "api_token": "tok…890"}
    assert saved.body["effective"]["api_token"] == "tok…890"
    assert TOKEN not in saved.text and TOKEN not in call("GET", config_url(hub), key=hub.admin_key).text

    # at rest: a keyring token, not the value
    row = stored_row(hub)
    assert TOKEN not in row
    assert json.loads(row)["api_token"]["$encrypted"].startswith("v1:")

    # the plugin reads it in clear, per request
    assert call("GET", f"{hub.url}/hubtest-settings/greeting", key=hub.admin_key).body["api_token"] == TOKEN

    # a form that never shows the secret saves the other fields without losing it; null clears it
    kept = call("PUT", config_url(hub), key=hub.admin_key, json_body={"greeting": "hello"})
    assert kept.body["values"] == {"greeting": "hello", "api_token": "tok…890"}
    assert hub.hub.host.config(PLUGIN)["api_token"] == TOKEN
    cleared = call(
        "PUT", config_url(hub), key=hub.admin_key, json_body={"greeting": "hello", "api_token": None}
    )
    assert "api_token" not in cleared.body["values"] and "api_token" not in hub.hub.host.config(PLUGIN)

    out, err = capfd.readouterr()
    assert TOKEN not in out + err  # never logged


def test_a_value_stored_before_its_field_became_secret_keeps_working_and_is_masked(hub):
    plain = {"greeting": "hi", "api_token": "plain-token-stored-earlier"}

    async def store() -> None:
        from hub_core.db import models as m
        from hub_core.runtime.state import bump_generation

        await m.HubState.update_or_create(
            key="plugin_config:" + PLUGIN, defaults={"value": json.dumps(plain)}
        )
        await bump_generation(hub.settings)

    hub.run(store)
    got = call("GET", config_url(hub), key=hub.admin_key)
    assert got.body["values"]["api_token"] == "pla…ier"
    assert (
        call("GET", f"{hub.url}/hubtest-settings/greeting", key=hub.admin_key).body["api_token"]
        == plain["api_token"]
    )
    # the next save encrypts it
    call("PUT", config_url(hub), key=hub.admin_key, json_body={"greeting": "hi"})
    assert plain["api_token"] not in stored_row(hub)
    assert hub.hub.host.config(PLUGIN)["api_token"] == plain["api_token"]


def test_secrets_rotate_reencrypts_secret_settings(hub):
    from hubtest_plugins.cli import ok, run_cli

    from hub_core.infra.crypto import Keyring

    call("PUT", config_url(hub), key=hub.admin_key, json_body={"greeting": "hi", "api_token": TOKEN})
    before = json.loads(stored_row(hub))["api_token"]["$encrypted"]
    result = ok(run_cli("secrets", "rotate", data_dir=hub.settings.data_dir))
    assert "Re-encrypted 1 secret plugin setting(s)." in result.stdout
    after = json.loads(stored_row(hub))["api_token"]["$encrypted"]
    ring = Keyring.load(None, hub.settings.data_dir / "secret.key")
    assert Keyring.key_id_of(after) == ring.current != Keyring.key_id_of(before)
    assert call("GET", f"{hub.url}/hubtest-settings/greeting", key=hub.admin_key).body["api_token"] == TOKEN


def test_provider_credentials_are_validated_against_the_plugins_whole_schema(
    hub_server_factory, hub_settings
):
    server = hub_server_factory(hub_settings, entry_points=[entry_point("acme")])
    pid = server.add_provider("acme")
    creds = f"{server.url}/api/ai-providers/{pid}/credentials"

    def add(value):
        return call("POST", creds, key=server.admin_key, json_body={"value": value, "verify": False})

    bad_key = add({"api_key": "sk-not-acme-1234567890"})
    assert bad_key.status == 400 and bad_key.error["message"] == 'api_key does not satisfy pattern "^acme-"'
    short = add({"api_key": "acme-1234567890", "project": "ab"})
    assert short.status == 400 and short.error["message"] == "project: 'ab' is too short"
    assert add({"api_key": "acme-1234567890", "project": "abc"}).status == 201


def test_plugins_config_cli_reads_and_sets_settings_masking_secrets(tmp_path, hub_server_factory):
    from hubtest_plugins import PLUGINS_DIR, write_dist_info
    from hubtest_plugins.cli import assert_clean_failure, ok, run_cli

    site = tmp_path / "site"
    write_dist_info(site, "hubtest-settings", "0.0.1", {PLUGIN: "hubtest_plugins.settings"})
    env = {"PYTHONPATH": f"{site}:{PLUGINS_DIR}"}
    data = tmp_path / "data"

    def cli(*args: str, **kwargs):
        return run_cli("plugins", "config", PLUGIN, *args, data_dir=data, env=env, **kwargs)

    listed = ok(cli()).stdout.splitlines()
    assert "mode = fast  (default)" in listed and "greeting = (not set)" in listed
    assert_clean_failure(cli("limit", "0"), "limit: 0 is less than the minimum of 1")
    assert_clean_failure(cli("colour", "red"), "colour is not a setting of plugin hubtest_settings")
    ok(cli("greeting", "hello"))
    ok(cli("limit", "3"))
    # a secret from stdin: never on the command line, shown masked, stored encrypted
    import subprocess

    from hubtest_plugins.cli import AIGNE_HUB, cli_env

    subprocess.run(
        [str(AIGNE_HUB), "plugins", "config", PLUGIN, "api_token", "-"],
        input=TOKEN + "\n", env=cli_env(data, **env), check=True, capture_output=True, text=True,
    )  # fmt: skip
    assert ok(cli("api_token")).stdout.strip() == "tok…890"
    shown = json.loads(ok(cli("--json")).stdout)
    assert shown["values"] == {"greeting": "hello", "limit": 3, "api_token": "tok…890"}
    ok(cli("limit", "--unset"))
    listed = ok(cli()).stdout
    assert "limit = 10  (default)" in listed.splitlines() and "api_token = tok…890" in listed
    assert TOKEN not in listed
    # a hub on that data dir hands the plugin the secret in clear
    server = hub_server_factory(make_settings(data), entry_points=[entry_point("settings")])
    seen = call("GET", f"{server.url}/hubtest-settings/greeting", key=server.create_key(role="admin"))
    assert seen.body["api_token"] == TOKEN and seen.body["limit"] == 10


def test_an_error_about_the_whole_object_never_quotes_a_secret():
    from hub_core.errors import HubError
    from hub_core.infra.schemas import check

    schema = {
        "type": "object",
        "properties": {"api_key": {"type": "string", "secret": True}, "org": {"type": "string"}},
        "minProperties": 2,
    }
    with pytest.raises(HubError) as refused:
        check(schema, {"api_key": "sk-never-echoed-123"}, what="credential field")
    assert refused.value.message == "the credential fields do not satisfy minProperties 2"
    plain = {**schema, "properties": {"org": {"type": "string"}}}
    with pytest.raises(HubError) as refused:
        check(plain, {"org": "acme"}, what="setting")
    assert refused.value.message == "settings: {'org': 'acme'} does not have enough properties"
