"""The admin JSON API over HTTP: users, access keys, providers and credentials (``/api/ai-providers``, the
original hub's layout), with masked secrets and clean 400/401/403/404/409 JSON errors."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "plugins"))

from hubtest_plugins.http import Answer, call, chat

ERROR_KEYS = {"message", "code", "type"}


def assert_error(answer: Answer, status: int, code: str | None = None, says: str | None = None) -> None:
    assert answer.status == status, answer.text
    assert answer.headers.get("content-type", "").startswith("application/json")
    assert set(answer.body) == {"error"} and answer.error.keys() >= ERROR_KEYS
    if code is not None:
        assert answer.error["code"] == code, answer.error
    if says is not None:
        assert says in answer.error["message"], answer.error
    assert "Traceback" not in answer.text


class Admin:
    """The admin API of one hub, called with its owner's key."""

    def __init__(self, server, key: str | None = None) -> None:
        self.url = server.url
        self.key = key or server.admin_key

    def __call__(self, method: str, path: str, body=None, **kwargs) -> Answer:
        return call(method, f"{self.url}{path}", key=self.key, json_body=body, **kwargs)


@pytest.fixture
def admin(hub) -> Admin:
    return Admin(hub)


@pytest.fixture
def bare(hub_server_factory) -> Admin:
    """A hub with nothing configured yet."""
    return Admin(hub_server_factory())


# --- authentication ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/api/admin/users", "/api/admin/keys", "/api/ai-providers", "/api/admin/plugins"]
)
def test_admin_routes_need_an_admin_key(hub, path):
    assert_error(call("GET", f"{hub.url}{path}"), 401, "invalid_api_key")
    assert_error(call("GET", f"{hub.url}{path}", key="ahk-not-a-real-key-000000000000"), 401)
    assert_error(call("GET", f"{hub.url}{path}", key=hub.create_key(role="member")), 403, "forbidden")
    assert call("GET", f"{hub.url}{path}", key=hub.create_key(role="admin")).status == 200


# --- users -------------------------------------------------------------------------------------------


def test_users_are_created_listed_in_pages_and_updated(bare):
    for name in ("ann", "bob", "cyd"):
        created = bare("POST", "/api/admin/users", {"name": name, "email": f"{name}@example.com"})
        assert created.status == 201
        assert {
            "name": name,
            "role": "member",
            "email": f"{name}@example.com",
            "disabled": False,
        }.items() <= (created.body.items())

    first = bare("GET", "/api/admin/users?page=1&pageSize=3").body
    second = bare("GET", "/api/admin/users?page=2&pageSize=3").body
    assert first["count"] == second["count"] == 4 and first["paging"] == {"page": 1, "pageSize": 3}
    assert [u["name"] for u in first["list"] + second["list"]] == ["owner", "ann", "bob", "cyd"]
    assert [u["name"] for u in bare("GET", "/api/admin/users?q=BO").body["list"]] == ["bob"]

    bob = first["list"][2]
    promoted = bare("PUT", f"/api/admin/users/{bob['id']}", {"role": "admin", "name": "Bob"})
    assert (promoted.status, promoted.body["role"], promoted.body["name"]) == (200, "admin", "Bob")


def test_user_validation_errors(bare):
    assert_error(
        bare("POST", "/api/admin/users", {"name": "x", "role": "god"}), 400, "invalid_request", "role must be"
    )
    assert_error(
        bare("POST", "/api/admin/users", {"role": "member"}), 400, "invalid_request", "name is required"
    )
    assert_error(
        bare("POST", "/api/admin/users", data=b"{oops", headers={"Content-Type": "application/json"}), 400
    )
    assert_error(bare("POST", "/api/admin/users", ["not", "an", "object"]), 400, says="must be a JSON object")
    assert_error(
        bare("PUT", "/api/admin/users/999", {"role": "admin"}), 404, "not_found", "User 999 not found"
    )
    assert_error(bare("GET", "/api/admin/users?pageSize=many"), 400, says="pageSize must be integers")
    assert bare("GET", "/api/admin/users?pageSize=1000").body["paging"]["pageSize"] == 100


def test_the_last_active_owner_cannot_be_demoted_or_disabled(bare):
    owner = bare("GET", "/api/admin/users").body["list"][0]
    assert owner["role"] == "owner"
    assert_error(bare("PUT", f"/api/admin/users/{owner['id']}", {"role": "admin"}), 409, "last_owner")
    assert_error(bare("PUT", f"/api/admin/users/{owner['id']}", {"disabled": True}), 409, "last_owner")

    second = bare("POST", "/api/admin/users", {"name": "co-owner", "role": "owner"}).body
    assert bare("PUT", f"/api/admin/users/{owner['id']}", {"role": "admin"}).status == 200
    # the demoted owner's key is an admin's now: it still reads, but may no longer touch the remaining owner
    assert bare("GET", "/api/admin/users").status == 200
    assert_error(bare("PUT", f"/api/admin/users/{second['id']}", {"role": "member"}), 403, "forbidden")


def test_an_admin_cannot_mint_owner_power_or_touch_the_owner(bare):
    owner = bare("GET", "/api/admin/users").body["list"][0]
    made = bare("POST", "/api/admin/keys", {"name": "ops", "role": "admin", "createUser": True}).body
    admin = Admin(type("S", (), {"url": bare.url})(), made["key"])
    assert_error(admin("POST", "/api/admin/users", {"name": "x", "role": "owner"}), 403, "forbidden")
    assert_error(admin("PUT", f"/api/admin/users/{owner['id']}", {"role": "member"}), 403, "forbidden")
    assert_error(admin("PUT", f"/api/admin/users/{owner['id']}", {"disabled": True}), 403, "forbidden")
    assert_error(admin("POST", "/api/admin/keys", {"name": "k", "userId": owner["id"]}), 403, "forbidden")
    assert_error(admin("POST", "/api/admin/keys", {"name": "k", "role": "owner"}), 403, "forbidden")
    member = admin("POST", "/api/admin/users", {"name": "m", "role": "member"}).body
    assert admin("PUT", f"/api/admin/users/{member['id']}", {"role": "admin"}).status == 200
    assert_error(admin("PUT", f"/api/admin/users/{member['id']}", {"role": "owner"}), 403, "forbidden")


# --- access keys -------------------------------------------------------------------------------------


def test_keys_are_shown_once_listed_in_pages_and_revoked(bare):
    made = bare("POST", "/api/admin/keys", {"name": "app-1", "createUser": True, "role": "member"})
    assert made.status == 201 and made.body["key"].startswith("ahk-") and made.body["role"] == "member"
    user_id = made.body["userId"]
    for name in ("app-2", "app-3"):
        assert bare("POST", "/api/admin/keys", {"name": name, "userId": user_id}).status == 201

    page = bare("GET", f"/api/admin/keys?userId={user_id}&pageSize=2").body
    rest = bare("GET", f"/api/admin/keys?userId={user_id}&pageSize=2&page=2").body
    assert page["count"] == 3 and [k["name"] for k in page["list"] + rest["list"]] == [
        "app-3",
        "app-2",
        "app-1",
    ]
    assert all("key" not in k and k["maskedKey"].endswith("…") for k in page["list"] + rest["list"])

    assert chat(bare.url, "openai/gpt-4o-mini", key=made.body["key"]).status != 401
    revoked = bare("DELETE", f"/api/admin/keys/{made.body['id']}")
    assert (revoked.status, revoked.body["status"]) == (200, "revoked")
    assert_error(chat(bare.url, "openai/gpt-4o-mini", key=made.body["key"]), 401)

    # Without userId the key is the caller's own, with the caller's (admin) role.
    mine = bare("POST", "/api/admin/keys", {"name": "for me"}).body
    assert mine["role"] == "admin" and mine["userId"] == bare("GET", "/api/admin/users").body["list"][0]["id"]


def test_a_key_never_has_a_higher_role_than_its_user(bare):
    """Issue 16: an admin key for a member was listed as admin and acted as a member (403)."""
    member = bare("POST", "/api/admin/users", {"name": "m1", "role": "member"}).body
    refused = bare("POST", "/api/admin/keys", {"name": "k", "userId": member["id"], "role": "admin"})
    assert_error(refused, 400, "invalid_request", "higher role than its user")
    assert bare("GET", f"/api/admin/keys?userId={member['id']}").body["count"] == 0
    made = bare("POST", "/api/admin/keys", {"name": "k", "userId": member["id"], "role": "member"})
    assert made.status == 201 and made.body["role"] == "member"


def test_key_validation_errors(bare):
    assert_error(bare("POST", "/api/admin/keys", {}), 400, "invalid_request", "name is required")
    assert_error(bare("POST", "/api/admin/keys", {"name": "k", "role": "root"}), 400, says="role must be")
    assert_error(
        bare("POST", "/api/admin/keys", {"name": "k", "expiresAt": "tomorrow"}), 400, says="ISO 8601"
    )
    assert_error(
        bare("POST", "/api/admin/keys", {"name": "k", "userId": "abc"}), 400, says="userId must be an integer"
    )
    assert_error(
        bare("POST", "/api/admin/keys", {"name": "k", "userId": 999}), 404, says="User 999 not found"
    )
    assert_error(bare("DELETE", "/api/admin/keys/999"), 404, says="Access key 999 not found")


# --- providers and credentials -----------------------------------------------------------------------


def test_provider_and_credential_crud_with_masked_values(bare, fake_openai_thread):
    available = {p["name"]: p for p in bare("GET", "/api/ai-providers/available").body}
    assert available["openai"]["credentialSchema"]["required"] == ["api_key"]
    assert available["openai"]["pluginEnabled"] is True

    created = bare(
        "POST",
        "/api/ai-providers",
        {"name": "openai", "baseUrl": fake_openai_thread.base_url, "displayName": "OpenAI"},
    )
    assert created.status == 201 and created.body["credentials"] == []
    pid = created.body["id"]
    secret = str(fake_openai_thread.api_key)
    cred = bare(
        "POST", f"/api/ai-providers/{pid}/credentials", {"value": secret, "name": "main", "weight": 5}
    )
    assert cred.status == 201 and secret not in cred.text
    assert (cred.body["name"], cred.body["weight"], cred.body["maskedValue"]) == ("main", 5, "sk…ey")

    listed = bare("GET", "/api/ai-providers")
    assert secret not in listed.text
    assert [c["maskedValue"] for c in listed.body[0]["credentials"]] == ["sk…ey"]
    assert bare("GET", "/api/ai-providers?name=openai").body[0]["id"] == pid

    key = bare("POST", "/api/admin/keys", {"name": "caller", "createUser": True}).body["key"]
    assert chat(bare.url, "openai/gpt-4o-mini", key=key).status == 200

    off = bare("PUT", f"/api/ai-providers/{pid}/credentials/{cred.body['id']}", {"active": False})
    assert off.status == 200 and off.body["active"] is False
    assert_error(chat(bare.url, "openai/gpt-4o-mini", key=key), 503, "no_active_credential")
    rotated = bare(
        "PUT", f"/api/ai-providers/{pid}/credentials/{cred.body['id']}", {"value": secret, "active": True}
    )
    assert rotated.body["active"] is True and secret not in rotated.text
    assert chat(bare.url, "openai/gpt-4o-mini", key=key).status == 200

    disabled = bare("PUT", f"/api/ai-providers/{pid}", {"enabled": False, "displayName": "Paused"})
    assert (disabled.body["enabled"], disabled.body["displayName"]) == (False, "Paused")
    # the answer lists the provider's credentials, as GET does (it said [] before, issue 16)
    assert [c["id"] for c in disabled.body["credentials"]] == [cred.body["id"]]
    assert_error(
        chat(bare.url, "openai/gpt-4o-mini", key=key), 503, "provider_disabled", "disabled by the admin"
    )
    assert bare("PUT", f"/api/ai-providers/{pid}", {"enabled": True}).status == 200

    assert bare("DELETE", f"/api/ai-providers/{pid}/credentials/{cred.body['id']}").status == 200
    assert_error(bare("DELETE", f"/api/ai-providers/{pid}/credentials/{cred.body['id']}"), 404)
    assert bare("DELETE", f"/api/ai-providers/{pid}").status == 200
    assert bare("GET", "/api/ai-providers").body == []


def test_provider_and_credential_validation_errors(bare):
    assert_error(
        bare("POST", "/api/ai-providers", {"name": "nosuch"}),
        400,
        "invalid_request",
        "Unknown provider 'nosuch'",
    )
    assert_error(
        bare("POST", "/api/ai-providers", {"name": "openai", "baseUrl": "file:///etc"}), 400, says="baseUrl"
    )
    pid = bare("POST", "/api/ai-providers", {"name": "openai"}).body["id"]
    assert_error(bare("POST", "/api/ai-providers", {"name": "openai"}), 409, "conflict", "already exists")
    assert_error(
        bare("PUT", "/api/ai-providers/999", {"enabled": False}), 404, "not_found", "Provider 999 not found"
    )
    assert_error(
        bare("PUT", f"/api/ai-providers/{pid}", {"config": [1, 2]}), 400, says="config must be an object"
    )

    creds = f"/api/ai-providers/{pid}/credentials"
    assert_error(bare("POST", creds, {}), 400, says="value must be a string or an object")
    assert_error(bare("POST", creds, {"value": {"region": "x"}}), 400, says="'api_key' is required")
    assert_error(bare("POST", creds, {"value": "sk-x" * 5, "weight": 0}), 400, says="weight must be between")
    assert_error(
        bare("POST", creds, {"value": "sk-x" * 5, "weight": "heavy"}), 400, says="weight must be an integer"
    )
    assert_error(
        bare("POST", creds, {"value": "sk-x" * 5, "credentialType": "magic"}), 400, says="credentialType"
    )
    assert_error(bare("POST", "/api/ai-providers/999/credentials", {"value": "sk-x" * 5}), 404)
    assert_error(bare("PUT", f"{creds}/999", {"active": False}), 404, says="Credential 999 not found")
    assert_error(bare("GET", "/api/ai-providers/nothing-here"), 404)
