"""The audit log of admin changes (``GET /api/admin/audit``) over real HTTP: changes made through the admin
API and through the ``aigne-hub`` CLI both appear, newest first, with who made them, the record before and
after, and never a secret in clear; filters and paging; members are refused."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "plugins"))

from hubtest_plugins import entry_point, installed
from hubtest_plugins.cli import ok, run_cli
from hubtest_plugins.http import Answer, call

SECRET = "sk-audit-secret-value-0123456789abcdef"


def audit(server, key: str | None = None, **params: str) -> Answer:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return call("GET", f"{server.url}/api/admin/audit?{query}", key=key or server.admin_key)


def entries(server, **params: str) -> list[dict]:
    answer = audit(server, **params)
    assert answer.status == 200, answer.text
    return answer.body["list"]


def admin(server, method: str, path: str, body=None, **headers: str) -> Answer:
    answer = call(method, f"{server.url}{path}", key=server.admin_key, json_body=body, headers=headers)
    assert answer.status < 300, answer.text
    return answer


def test_api_changes_are_logged_with_who_before_after_and_no_secret(hub, fake_openai_thread):
    provider = admin(hub, "GET", "/api/ai-providers").body[0]
    cred = admin(
        hub,
        "POST",
        f"/api/ai-providers/{provider['id']}/credentials",
        {"value": SECRET, "name": "audited", "verify": False},
        **{"X-Request-Id": "audit-req-1"},
    ).body
    admin(hub, "PUT", f"/api/ai-providers/{provider['id']}/credentials/{cred['id']}", {"weight": 7})
    admin(hub, "PUT", f"/api/ai-providers/{provider['id']}", {"displayName": "Renamed"})
    user = admin(hub, "POST", "/api/admin/users", {"name": "dora", "role": "member"}).body
    admin(hub, "PUT", f"/api/admin/users/{user['id']}", {"role": "admin"})
    key = admin(hub, "POST", "/api/admin/keys", {"userId": user["id"], "name": "dora-key"}).body
    admin(hub, "DELETE", f"/api/admin/keys/{key['id']}")

    log = entries(hub, actor="user")  # the fixture's own setup is logged as "system"
    assert {e["actor"]["kind"] for e in entries(hub, action="provider.create")} == {"system"}
    actions = [e["action"] for e in log]
    assert actions == [
        "key.revoke",
        "key.create",
        "user.update",
        "user.create",
        "provider.update",
        "credential.update",
        "credential.create",
    ], actions  # newest first
    by_action = {e["action"]: e for e in log}
    owner = by_action["user.create"]["actor"]
    assert owner["kind"] == "user" and owner["userId"] is not None and owner["keyId"] is not None

    created = by_action["credential.create"]
    assert created["targetType"] == "credential" and created["targetId"] == str(cred["id"])
    assert created["before"] is None and created["after"]["name"] == "audited"
    assert created["after"]["maskedValue"] == cred["maskedValue"] != SECRET
    assert created["requestId"] == "audit-req-1"
    weight = by_action["credential.update"]
    assert (weight["before"]["weight"], weight["after"]["weight"]) == (100, 7)
    renamed = by_action["provider.update"]
    assert renamed["before"]["displayName"] != "Renamed" and renamed["after"]["displayName"] == "Renamed"
    role = by_action["user.update"]
    assert (role["before"]["role"], role["after"]["role"]) == ("member", "admin")
    revoked = by_action["key.revoke"]
    assert (revoked["before"]["status"], revoked["after"]["status"]) == ("active", "revoked")
    text = json.dumps(log)
    assert SECRET not in text and SECRET[6:-4] not in text
    assert key["key"] not in text  # a new key's token is shown once, never logged

    # filters: action prefix, target, actor, time range and paging
    assert [e["action"] for e in entries(hub, actor="user", action="credential.")] == [
        "credential.update",
        "credential.create",
    ]
    assert [e["action"] for e in entries(hub, targetType="user", targetId=str(user["id"]))] == [
        "user.update",
        "user.create",
    ]
    assert len(entries(hub, actor=str(owner["userId"]))) == 7
    assert entries(hub, actor="cli") == []
    page = audit(hub, actor="user", page="2", pageSize="3").body
    assert page["count"] == 7 and [e["action"] for e in page["list"]] == [
        "user.create",
        "provider.update",
        "credential.update",
    ]
    newest = log[0]["createdAt"]
    assert [e["action"] for e in entries(hub, **{"from": newest.replace("+", "%2B")})] == ["key.revoke"]
    assert entries(hub, actor="user", to=log[-1]["createdAt"].replace("+", "%2B")) == []


def test_cli_changes_are_logged_as_cli(hub_server_factory, hub_settings, fake_openai_thread):
    server = hub_server_factory(hub_settings)
    data = hub_settings.data_dir
    ok(run_cli("providers", "add", "openai", "--base-url", fake_openai_thread.base_url, data_dir=data))
    ok(run_cli("credentials", "add", "openai", "--value", SECRET, "--no-verify", data_dir=data))
    ok(
        run_cli(
            "billing", "rates", "set", "openai", "gpt-4o-mini", "--input", "1", "--output", "2", data_dir=data
        )
    )
    ok(run_cli("billing", "rates", "set", "openai", "gpt-4o-mini", "--output", "3", data_dir=data))
    ok(run_cli("plugins", "disable", "openai", data_dir=data))
    ok(run_cli("secrets", "rotate", data_dir=data))

    log = entries(server, actor="cli")
    rotated = log.pop(0)
    assert rotated["action"] == "secrets.rotate" and rotated["after"]["reencrypted"] == 1
    assert [e["action"] for e in log] == [
        "plugin.disable",
        "rate.update",
        "rate.create",
        "credential.create",
        "provider.create",
    ]
    assert all(e["actor"] == {"kind": "cli", "userId": None, "name": "cli", "keyId": None} for e in log)
    rate = log[1]
    assert (rate["before"]["outputRate"], rate["after"]["outputRate"]) == ("2", "3")
    assert (log[0]["before"], log[0]["after"]) == ({"enabled": True}, {"enabled": False})
    assert SECRET not in json.dumps(log)


def test_plugin_settings_are_logged_with_the_secret_masked(hub_server_factory, hub_settings):
    server = hub_server_factory(hub_settings, entry_points=[installed("openai"), entry_point("settings")])
    url = "/api/admin/plugins/hubtest_settings/config"
    admin(server, "PUT", url, {"greeting": "hello", "api_token": SECRET})
    admin(server, "PUT", url, {"greeting": "bonjour"})  # a secret left out keeps its stored value
    second, first = entries(server, action="plugin.config")
    assert first["before"] == {} and first["after"]["greeting"] == "hello"
    assert (second["before"]["greeting"], second["after"]["greeting"]) == ("hello", "bonjour")
    assert first["after"]["api_token"] and second["after"]["api_token"]  # there, but masked
    assert SECRET not in json.dumps([first, second]) and SECRET[6:-4] not in json.dumps([first, second])


def test_secret_looking_keys_are_masked_anywhere():
    from hub_core.db import audit as audit_store

    cleaned = audit_store.clean({"api_key": SECRET, "headers": {"X-Api-Key": SECRET, "Accept": "json"}})
    assert cleaned == {"api_key": "***", "headers": {"X-Api-Key": "***", "Accept": "json"}}


@pytest.mark.parametrize("params", [{"from": "yesterday"}, {"page": "x"}])
def test_bad_filters_are_400(hub, params):
    answer = audit(hub, **params)
    assert answer.status == 400 and answer.body["error"]["code"], answer.text


def test_members_get_403(hub):
    answer = audit(hub, key=hub.create_key(role="member"))
    assert answer.status == 403 and answer.body["error"]["code"] == "forbidden"
