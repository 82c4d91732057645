"""Access keys: random tokens shown once, stored only as a SHA-256 hash with a visible prefix, revocable, with
optional expiry; the effective role is the lower of the key's and its user's; the first start creates the
owner with a one-time admin key."""

from __future__ import annotations

import hashlib
import re
import sqlite3
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "plugins"))

from hubtest_plugins.cli import ok, run_cli
from hubtest_plugins.http import call, chat

from hub_core.admin import users
from hub_core.errors import HubError

KEY = re.compile(r"ahk-[A-Za-z0-9_\-]{40,}")


def db_bytes(data_dir: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(data_dir.glob("hub.db*")))


def test_a_key_is_shown_once_and_stored_only_as_a_hash_with_a_prefix(hub):
    created = call("POST", f"{hub.url}/api/admin/keys", key=hub.admin_key, json_body={"name": "ci"})
    assert created.status == 201
    token = created.body["key"]
    assert KEY.fullmatch(token) and len(token) >= 40
    assert created.body["prefix"] == token[:12] and created.body["maskedKey"] == f"{token[:12]}…"

    with sqlite3.connect(hub.settings.data_dir / "hub.db") as conn:
        row = conn.execute(
            "SELECT key_hash, prefix FROM access_keys WHERE id = ?", (created.body["id"],)
        ).fetchone()
    assert row == (hashlib.sha256(token.encode()).hexdigest(), token[:12])
    hub.calls()  # let the hub write what it writes, then look for the token anywhere in the database files
    assert token.encode() not in db_bytes(hub.settings.data_dir)
    assert token[12:].encode() not in db_bytes(hub.settings.data_dir)

    listed = call("GET", f"{hub.url}/api/admin/keys", key=hub.admin_key)
    assert token not in listed.text and all("key" not in k for k in listed.body["list"])
    assert chat(hub.url, "openai/gpt-4o-mini", key=token).status == 200


def test_a_revoked_key_fails_on_the_next_request(hub):
    created = call("POST", f"{hub.url}/api/admin/keys", key=hub.admin_key, json_body={"name": "soon revoked"})
    token, key_id = created.body["key"], created.body["id"]
    assert chat(hub.url, "openai/gpt-4o-mini", key=token).status == 200  # now cached by the hub

    revoked = call("DELETE", f"{hub.url}/api/admin/keys/{key_id}", key=hub.admin_key)
    assert revoked.status == 200 and revoked.body["status"] == "revoked"
    refused = chat(hub.url, "openai/gpt-4o-mini", key=token)
    assert refused.status == 401
    assert refused.error["code"] == "invalid_api_key" and "revoked" in refused.error["message"]


def test_revoking_from_the_cli_reaches_the_running_hub(hub):
    token = hub.create_key(name="cli-revoked")
    assert chat(hub.url, "openai/gpt-4o-mini", key=token).status == 200
    result = ok(run_cli("keys", "revoke", token[:12], data_dir=hub.settings.data_dir))
    assert "Revoked key" in result.stdout
    assert chat(hub.url, "openai/gpt-4o-mini", key=token).status == 401


def test_an_expired_key_is_refused_with_expired(hub):
    expires = (datetime.now(UTC) + timedelta(seconds=1.5)).isoformat()
    created = call(
        "POST",
        f"{hub.url}/api/admin/keys",
        key=hub.admin_key,
        json_body={"name": "short", "expiresAt": expires},
    )
    assert created.status == 201 and created.body["expiresAt"] is not None
    token = created.body["key"]
    assert chat(hub.url, "openai/gpt-4o-mini", key=token).status == 200

    time.sleep(max(0.0, datetime.fromisoformat(expires).timestamp() - time.time()) + 0.2)
    refused = chat(hub.url, "openai/gpt-4o-mini", key=token)
    assert refused.status == 401 and "expired" in refused.error["message"]
    listed = call("GET", f"{hub.url}/api/admin/keys", key=hub.admin_key).body["list"]
    assert next(k for k in listed if k["id"] == created.body["id"])["status"] == "expired"

    past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    bad = call(
        "POST", f"{hub.url}/api/admin/keys", key=hub.admin_key, json_body={"name": "x", "expiresAt": past}
    )
    assert bad.status == 400 and bad.error["message"] == "expiresAt must be in the future"


def test_the_effective_role_is_the_lower_of_key_and_user(hub):
    async def make(user_role: str, key_role: str) -> str:
        user = await users.create_user(f"{user_role}-{key_role}", user_role)
        return (await users.create_key(user, "k", key_role))[1]

    admin_api = f"{hub.url}/api/admin/users"
    with pytest.raises(HubError) as refused:  # a key never has a higher role than its user (issue 16, bug 6)
        hub.run(lambda: make("member", "admin"))
    assert refused.value.status == 400
    admin_user_member_key = hub.run(lambda: make("admin", "member"))
    admin_user_admin_key = hub.run(lambda: make("admin", "admin"))
    assert call("GET", admin_api, key=admin_user_member_key).status == 403
    assert call("GET", admin_api, key=admin_user_admin_key).status == 200
    # A member key still makes AI calls.
    assert chat(hub.url, "openai/gpt-4o-mini", key=admin_user_member_key).status == 200

    # Demoting the user takes the admin rights away from the key on the next request.
    user_id = next(
        u for u in call("GET", admin_api, key=hub.admin_key).body["list"] if u["name"] == "admin-admin"
    )["id"]
    demoted = call("PUT", f"{admin_api}/{user_id}", key=hub.admin_key, json_body={"role": "member"})
    assert demoted.status == 200
    assert call("GET", admin_api, key=admin_user_admin_key).status == 403


def test_the_first_start_creates_the_owner_with_a_one_time_admin_key(hub_server_factory, hub_settings):
    first = hub_server_factory(hub_settings)
    token = first.admin_key
    assert KEY.fullmatch(token)
    owners = [
        u for u in call("GET", f"{first.url}/api/admin/users", key=token).body["list"] if u["role"] == "owner"
    ]
    assert [u["name"] for u in owners] == ["owner"]
    first.stop()

    second = hub_server_factory(hub_settings)  # a restart creates no second owner and shows no new key
    assert second.hub.initial_admin_key is None
    users_after = call("GET", f"{second.url}/api/admin/users", key=token).body
    assert users_after["count"] == 1


def test_init_prints_the_owner_key_once(tmp_path):
    data = tmp_path / "data"
    first = ok(run_cli("init", data_dir=data))
    keys = KEY.findall(first.stdout)
    assert len(keys) == 1 and "shown once" in first.stdout
    assert (data / "hub.db").exists() and (data / "secret.key").exists()

    second = ok(run_cli("init", data_dir=data))
    assert KEY.findall(second.stdout + second.stderr) == []
    assert "Already initialized" in second.stdout

    listed = ok(run_cli("keys", "list", "--json", data_dir=data))
    assert '"role": "owner"' in listed.stdout and keys[0] not in listed.stdout
