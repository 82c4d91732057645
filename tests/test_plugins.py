"""The plugin manager as a user meets it: discovery through entry points, a broken plugin, the allow-list,
duplicate names, enable/disable while the hub runs, and the ``/-/plugins`` introspection."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "plugins"))

from hubtest_plugins import PLUGINS_DIR, entry_point, installed, write_dist_info
from hubtest_plugins import hooks as hubtest
from hubtest_plugins.cli import ok, run_cli
from hubtest_plugins.http import call, chat

from hub_core.config import Settings
from hub_core.hub import build_plugin_host

FIELDS = {"name", "version", "kind", "hooks", "registered", "status", "error"}


@pytest.fixture(autouse=True)
def _fresh_test_plugins():
    hubtest.reset()
    yield
    hubtest.reset()


def plugins_of(server) -> dict[str, dict]:
    answer = call("GET", f"{server.url}/-/plugins", key=server.admin_key)
    assert answer.status == 200, answer.text
    return {p["name"]: p for p in answer.body}


def test_broken_plugin_is_recorded_and_the_hub_still_serves(
    hub_server_factory, hub_settings, fake_openai_thread
):
    server = hub_server_factory(hub_settings, entry_points=[installed("openai"), entry_point("broken")])
    server.add_provider("openai", base_url=fake_openai_thread.base_url, credential=fake_openai_thread.api_key)

    broken = plugins_of(server)["hubtest_broken"]
    assert broken["status"] == "failed" and broken["enabled"] is False
    assert "ModuleNotFoundError" in broken["error"] and "hubtest_missing_dependency" in broken["error"]
    assert broken["hooks"] == [] and broken["registered"] == {}
    assert chat(server.url, "openai/gpt-4o-mini", key=server.create_key()).status == 200


def test_plugins_list_cli_shows_the_broken_plugin_with_its_error(tmp_path):
    # An installed-looking distribution whose entry point cannot be imported, discovered by the CLI process.
    site = tmp_path / "site"
    write_dist_info(site, "hubtest-broken", "0.0.1", {"hubtest_broken": "hubtest_plugins.broken"})
    env = {"PYTHONPATH": os.pathsep.join([str(site), str(PLUGINS_DIR)])}

    listed = ok(run_cli("plugins", "list", "--json", data_dir=tmp_path / "data", env=env))
    rows = {p["name"]: p for p in json.loads(listed.stdout)}
    broken = rows["hubtest_broken"]
    assert (broken["status"], broken["distribution"], broken["version"]) == (
        "failed",
        "hubtest-broken",
        "0.0.1",
    )
    assert "hubtest_missing_dependency" in broken["error"]
    assert rows["openai"]["status"] == "enabled"

    table = ok(run_cli("plugins", "list", data_dir=tmp_path / "data", env=env))
    line = next(x for x in table.stdout.splitlines() if x.startswith("hubtest_broken"))
    assert "0.0.1" in line and "failed" in line
    assert "error: ModuleNotFoundError: No module named 'hubtest_missing_dependency'" in table.stdout
    assert "Traceback" not in table.stdout + table.stderr


def test_a_plugin_for_another_core_version_is_refused_with_a_clear_message(
    tmp_path, hub_server_factory, fake_openai_thread
):
    from importlib import metadata

    from hub_core.infra.plugin_host import core_version

    site = tmp_path / "site"
    write_dist_info(
        site, "hubtest-future", "1.0.0", {"hubtest_future": "hubtest_plugins.hooks"}, ("aigne-hub>=99",)
    )
    write_dist_info(
        site, "hubtest-fits", "1.0.0", {"hubtest_fits": "hubtest_plugins.vault"}, ("aigne-hub>=0.1",)
    )
    dists = {d.metadata["Name"]: d for d in metadata.distributions(path=[str(site)])}
    eps = [
        *dists["hubtest-future"].entry_points,
        *dists["hubtest-fits"].entry_points,
        installed("openai"),
    ]
    server = hub_server_factory(entry_points=eps)
    rows = plugins_of(server)
    future = rows["hubtest_future"]
    assert future["status"] == "failed" and future["enabled"] is False
    assert (
        future["error"]
        == f"incompatible: hubtest-future requires aigne-hub>=99; this hub is {core_version()}"
    )
    assert future["hooks"] == []  # its code was never imported or registered
    assert rows["hubtest_fits"]["status"] == "enabled"
    server.add_provider("openai", base_url=fake_openai_thread.base_url, credential=fake_openai_thread.api_key)
    assert chat(server.url, "openai/gpt-4o-mini", key=server.create_key()).status == 200


def test_misspelt_hooks_and_hook_wrappers_are_refused_at_load_time():
    host = build_plugin_host(Settings(), [installed("openai"), entry_point("typo"), entry_point("wrapper")])
    typo, wrapper = host.infos["hubtest_typo"], host.infos["hubtest_wrapper"]
    assert typo.status == "failed" and "unknown hook 'register_provider'" in (typo.error or "")
    assert wrapper.status == "failed" and "hook wrappers are not supported (select_route)" in (
        wrapper.error or ""
    )
    assert host.pm.get_plugin("hubtest_wrapper") is None  # unregistered: its wrapper never runs
    assert host.infos["openai"].status == "enabled"


def test_load_plugins_allow_list_excludes_the_others(hub_server_factory, hub_settings, fake_openai_thread):
    settings = hub_settings.with_(load_plugins=frozenset({"openai"}))
    server = hub_server_factory(settings, entry_points=[installed("openai"), entry_point("hooks")])
    server.add_provider("openai", base_url=fake_openai_thread.base_url, credential=fake_openai_thread.api_key)

    plugins = plugins_of(server)
    assert plugins["hubtest_hooks"]["status"] == "excluded"
    assert "AIGNE_HUB_LOAD_PLUGINS" in plugins["hubtest_hooks"]["error"]
    assert plugins["openai"]["status"] == "enabled"
    assert hubtest.EVENTS == []  # never imported into the hub's hooks: its on_startup did not run
    assert call("GET", f"{server.url}/hubtest/ping").body is None  # its route is not mounted (no JSON pong)
    assert chat(server.url, "openai/gpt-4o-mini", key=server.admin_key).status == 200


def test_load_plugins_allow_list_is_read_from_the_environment_and_accepts_distribution_names(monkeypatch):
    monkeypatch.setenv("AIGNE_HUB_LOAD_PLUGINS", " aigne-hub-provider-openai , hubtest_hooks ")
    settings = Settings.from_env()
    assert settings.load_plugins == frozenset({"aigne-hub-provider-openai", "hubtest_hooks"})
    host = build_plugin_host(settings, [installed("openai"), entry_point("hooks"), entry_point("noisy")])
    assert {n: i.status for n, i in host.infos.items()} == {
        "openai": "enabled",  # allowed by its distribution name
        "hubtest_hooks": "enabled",
        "hubtest_noisy": "excluded",
    }


def test_duplicate_provider_name_refuses_the_second_plugin_naming_both(
    hub_server_factory, hub_settings, fake_openai_thread
):
    server = hub_server_factory(
        hub_settings, entry_points=[installed("openai"), entry_point("dup", name="openai_impostor")]
    )
    server.add_provider("openai", base_url=fake_openai_thread.base_url, credential=fake_openai_thread.api_key)

    plugins = plugins_of(server)
    dup = plugins["openai_impostor"]
    assert dup["status"] == "failed"
    assert "'openai'" in dup["error"] and "'openai_impostor'" in dup["error"], dup["error"]
    assert plugins["openai"]["registered"] == {"providers": ["openai"]}
    assert server.hub.host.provider_plugin("openai") == "openai"
    assert chat(server.url, "openai/gpt-4o-mini", key=server.admin_key).status == 200


@pytest.mark.parametrize("dup_name", ["aaa_impostor", "zzz_impostor"])
def test_duplicate_provider_name_keeps_the_first_loaded_plugin_whatever_the_names(dup_name):
    host = build_plugin_host(Settings(), [installed("openai"), entry_point("dup", name=dup_name)])
    host.run_registrations()
    first, second = sorted(["openai", dup_name])
    assert host.provider_plugin("openai") == first
    assert host.infos[second].status == "failed"
    assert f"registered by both {first!r} and {second!r}" in (host.infos[second].error or "")


def test_disable_and_enable_through_the_admin_api_without_restart(hub):
    # The same from another process (`aigne-hub plugins disable openai`): the end-to-end test in test_cli.py.
    key = hub.create_key()
    toggle = f"{hub.url}/api/admin/plugins/openai"
    assert chat(hub.url, "openai/gpt-4o-mini", key=key).status == 200

    off = call("PUT", toggle, key=hub.admin_key, json_body={"enabled": False})
    assert off.status == 200 and off.body["status"] == "disabled" and off.body["enabled"] is False
    refused = chat(hub.url, "openai/gpt-4o-mini", key=key)
    assert refused.status == 503
    assert refused.error["code"] == "provider_disabled"
    assert refused.error["message"] == "Provider 'openai' is unavailable: its plugin 'openai' is disabled"
    assert plugins_of(hub)["openai"]["status"] == "disabled"

    on = call("PUT", toggle, key=hub.admin_key, json_body={"enabled": True})
    assert on.status == 200 and on.body["status"] == "enabled"
    assert chat(hub.url, "openai/gpt-4o-mini", key=key).status == 200


def test_plugin_toggle_validates_its_input(hub):
    url = f"{hub.url}/api/admin/plugins"
    bad = call("PUT", f"{url}/openai", key=hub.admin_key, json_body={"enabled": "no"})
    assert (bad.status, bad.error["code"]) == (400, "invalid_request")
    missing = call("PUT", f"{url}/nosuch", key=hub.admin_key, json_body={"enabled": False})
    assert missing.status == 404 and "nosuch" in missing.error["message"]
    member = call("PUT", f"{url}/openai", key=hub.create_key(), json_body={"enabled": False})
    assert member.status == 403


def test_plugins_endpoint_requires_an_admin(hub):
    assert call("GET", f"{hub.url}/-/plugins").status == 401
    member = call("GET", f"{hub.url}/-/plugins", key=hub.create_key(role="member"))
    assert member.status == 403 and member.error["code"] == "forbidden"
    assert call("GET", f"{hub.url}/-/plugins", key=hub.create_key(role="admin")).status == 200


def test_plugins_endpoint_describes_each_plugin(hub):
    plugins = plugins_of(hub)
    for info in plugins.values():
        assert info.keys() >= FIELDS

    openai_plugin = plugins["openai"]
    assert openai_plugin["version"] == installed("openai").dist.version
    assert openai_plugin["distribution"] == "aigne-hub-provider-openai"
    assert (openai_plugin["kind"], openai_plugin["status"], openai_plugin["error"]) == (
        "provider",
        "enabled",
        None,
    )
    assert openai_plugin["hooks"] == ["register_providers"]
    assert openai_plugin["registered"] == {"providers": ["openai"]}

    # Built-in behaviour is listed as ordinary (built-in) plugins with the hooks they implement.
    assert plugins["key_auth"]["kind"] == "builtin" and plugins["key_auth"]["hooks"] == ["auth_from_request"]
    assert plugins["usage_log"]["hooks"] == ["on_call_finished"]
    assert plugins["default_routing"]["hooks"] == ["select_route"]
    assert plugins["provider_upstream"]["hooks"] == ["prepare_upstream_request", "select_normalizer"]
    # The same list is on the admin API.
    assert call("GET", f"{hub.url}/api/admin/plugins", key=hub.admin_key).body == list(plugins.values())


def test_enabling_a_plugin_that_failed_to_load_says_why_and_exits_non_zero(tmp_path):
    site = tmp_path / "site"
    write_dist_info(site, "hubtest-broken", "0.0.1", {"hubtest_broken": "hubtest_plugins.broken"})
    env = {"PYTHONPATH": os.pathsep.join([str(site), str(PLUGINS_DIR)])}

    result = run_cli("plugins", "enable", "hubtest_broken", data_dir=tmp_path / "data", env=env)
    assert result.returncode == 1 and "Enabled" not in result.stdout
    assert "Plugin 'hubtest_broken' failed to load and cannot be enabled" in result.stderr
    assert "hubtest_missing_dependency" in result.stderr and "Traceback" not in result.stderr
    # a plugin that loads is enabled as before
    assert (
        "Enabled plugin openai."
        in ok(run_cli("plugins", "enable", "openai", data_dir=tmp_path / "data")).stdout
    )
