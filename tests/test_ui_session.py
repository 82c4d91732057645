"""Console sign-in: an access key exchanged for an HttpOnly session cookie, CSRF on cookie-authenticated
writes, sign-out, revocation, and the caller's own keys (``/api/me/keys``)."""

from __future__ import annotations

import http.cookiejar
import json
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import Message
from typing import Any

import openai
import pytest

from hub_core.admin.sessions import CSRF_COOKIE, SESSION_COOKIE


@dataclass
class Reply:
    status: int
    headers: Message
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode()

    def cookies_set(self) -> list[str]:
        return self.headers.get_all("Set-Cookie") or []


@dataclass
class Browserish:
    base: str
    jar: http.cookiejar.CookieJar = field(default_factory=http.cookiejar.CookieJar)

    def __post_init__(self) -> None:
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def cookie(self, name: str) -> str | None:
        return next((c.value for c in self.jar if c.name == name), None)

    def request(
        self,
        method: str,
        path: str,
        json_body: Any = None,
        headers: dict[str, str] | None = None,
        data: bytes | None = None,
    ) -> Reply:
        hdrs = dict(headers or {})
        if json_body is not None:
            data = json.dumps(json_body).encode()
            hdrs.setdefault("Content-Type", "application/json")
        req = urllib.request.Request(self.base + path, data=data, method=method, headers=hdrs)
        try:
            with self.opener.open(req, timeout=15) as resp:
                return Reply(resp.status, resp.headers, resp.read())
        except urllib.error.HTTPError as err:
            return Reply(err.code, err.headers, err.read())

    def get(self, path: str, **kw: Any) -> Reply:
        return self.request("GET", path, **kw)

    def post(self, path: str, json_body: Any = None, **kw: Any) -> Reply:
        return self.request("POST", path, json_body, **kw)

    def delete(self, path: str, **kw: Any) -> Reply:
        return self.request("DELETE", path, **kw)


def sign_in(base: str, key: str) -> tuple[Browserish, Reply]:
    client = Browserish(base)
    return client, client.post("/api/auth/session", {"key": key})


def csrf(client: Browserish) -> dict[str, str]:
    return {"X-CSRF-Token": client.cookie(CSRF_COOKIE) or ""}


async def _session_hashes() -> list[str]:
    from hub_core.db import models as m

    return [s.token_hash for s in await m.Session.all()]


def test_sign_in_sets_strict_httponly_cookie_and_works_for_admin_api(hub):
    client, resp = sign_in(hub.url, hub.admin_key)
    assert resp.status == 200
    body = resp.json()
    assert body["user"]["role"] == "owner" and body["isAdmin"] is True
    session = next(c for c in resp.cookies_set() if c.startswith(SESSION_COOKIE + "="))
    assert "HttpOnly" in session and "SameSite=Strict" in session and "Path=/" in session
    csrf_cookie = next(c for c in resp.cookies_set() if c.startswith(CSRF_COOKIE + "="))
    assert "HttpOnly" not in csrf_cookie
    assert body["csrfToken"] == client.cookie(CSRF_COOKIE)
    # the session token is not the access key, and the key is never echoed back
    token = client.cookie(SESSION_COOKIE)
    assert token and token != hub.admin_key and hub.admin_key not in resp.text

    me = client.get("/api/auth/session")
    assert me.status == 200 and me.json()["via"] == "session"
    assert client.get("/api/admin/plugins").status == 200
    stored = hub.run(_session_hashes)
    assert len(stored) == 1 and token not in stored  # only a hash is kept


def test_cookie_writes_need_the_csrf_header(hub):
    client, _ = sign_in(hub.url, hub.admin_key)
    body = {"name": "ci", "createUser": True}
    missing = client.post("/api/admin/keys", body)
    assert missing.status == 403 and missing.json()["error"]["code"] == "csrf_failed"
    wrong = client.post("/api/admin/keys", body, headers={"X-CSRF-Token": "0" * 64})
    assert wrong.status == 403
    ok = client.post("/api/admin/keys", body, headers=csrf(client))
    assert ok.status == 201 and ok.json()["key"].startswith("ahk-")
    assert client.get("/api/admin/keys").status == 200  # reads never need it


def _deltas(sse: str) -> str:
    out = []
    for line in sse.splitlines():
        if line.startswith("data: {"):
            for choice in json.loads(line[6:]).get("choices", []):
                out.append(choice.get("delta", {}).get("content") or "")
    return "".join(out)


def test_playground_streams_through_the_session_with_csrf(hub):
    client, _ = sign_in(hub.url, hub.admin_key)
    payload = {"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}], "stream": True}
    assert client.post("/v1/chat/completions", payload).status == 403
    resp = client.post("/v1/chat/completions", payload, headers=csrf(client))
    assert resp.status == 200
    assert _deltas(resp.text) == "Echo: hi" and resp.text.rstrip().endswith("data: [DONE]")
    rows = hub.wait_for_calls(1)
    assert rows[0]["status"] == "success" and rows[0]["stream"] is True


def test_sign_out_deletes_the_session(hub):
    client, _ = sign_in(hub.url, hub.admin_key)
    token = client.cookie(SESSION_COOKIE)
    headers = csrf(client)
    assert client.delete("/api/auth/session").status == 403  # sign-out is a write: CSRF applies
    assert client.delete("/api/auth/session", headers=headers).status == 200
    assert client.cookie(SESSION_COOKIE) is None
    assert hub.run(_session_hashes) == []
    # a copy of the old cookie is worthless now
    replay = Browserish(hub.url).get("/api/auth/session", headers={"Cookie": f"{SESSION_COOKIE}={token}"})
    assert replay.status == 401


def test_revoking_the_key_ends_its_sessions(hub):
    key = hub.create_key("alice", role="admin")
    client, _ = sign_in(hub.url, key)
    assert client.get("/api/admin/users").status == 200
    admin, _ = sign_in(hub.url, hub.admin_key)
    mine = client.get("/api/auth/session").json()["key"]["id"]
    assert admin.delete(f"/api/admin/keys/{mine}", headers=csrf(admin)).status == 200
    assert client.get("/api/admin/users").status == 401


def test_expired_session_is_anonymous(hub):
    client, _ = sign_in(hub.url, hub.admin_key)

    async def expire() -> None:
        from hub_core.db import models as m

        await m.Session.all().update(expires_at=datetime.now(UTC) - timedelta(seconds=1))

    hub.run(expire)
    assert client.get("/api/auth/session").status == 401


def test_bad_sign_in_requests(hub):
    client = Browserish(hub.url)
    bad = client.post("/api/auth/session", {"key": "ahk-" + "x" * 40})
    assert bad.status == 401 and client.cookie(SESSION_COOKIE) is None
    assert client.post("/api/auth/session", {}).status == 400
    # a cross-site HTML form cannot send JSON, so form posts are refused (login CSRF)
    form = client.request(
        "POST",
        "/api/auth/session",
        data=f"key={hub.admin_key}".encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert form.status == 415
    assert client.get("/api/auth/session").status == 401


def test_explicit_key_wins_over_the_cookie(hub):
    member = hub.create_key("bob", role="member")
    client, _ = sign_in(hub.url, hub.admin_key)
    resp = client.get("/api/admin/plugins", headers={"Authorization": f"Bearer {member}"})
    assert resp.status == 403  # the member's key decides, not the owner's session
    sdk = openai.OpenAI(base_url=f"{hub.url}/v1", api_key=member, max_retries=0)
    assert sdk.models.list().data  # Bearer clients need no CSRF header


def test_members_manage_only_their_own_keys(hub):
    bob_key = hub.create_key("bob", role="member")
    carol_key = hub.create_key("carol", role="member")
    bob, resp = sign_in(hub.url, bob_key)
    assert resp.json()["isAdmin"] is False
    assert bob.get("/api/admin/keys").status == 403

    listed = bob.get("/api/me/keys").json()
    assert listed["count"] == 1 and listed["list"][0]["current"] is True
    created = bob.post("/api/me/keys", {"name": "laptop"}, headers=csrf(bob))
    assert created.status == 201
    new_key = created.json()["key"]
    assert openai.OpenAI(base_url=f"{hub.url}/v1", api_key=new_key, max_retries=0).models.list()
    escalate = bob.post("/api/me/keys", {"name": "root", "role": "admin"}, headers=csrf(bob))
    assert escalate.status == 403

    carol, _ = sign_in(hub.url, carol_key)
    carol_id = carol.get("/api/auth/session").json()["key"]["id"]
    assert bob.delete(f"/api/me/keys/{carol_id}", headers=csrf(bob)).status == 404
    revoked = bob.delete(f"/api/me/keys/{created.json()['id']}", headers=csrf(bob))
    assert revoked.status == 200 and revoked.json()["status"] == "revoked"
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(base_url=f"{hub.url}/v1", api_key=new_key, max_retries=0).models.list()


@pytest.mark.postgres
def test_sessions_on_postgres(hub_server_factory, hub_settings, pg_url):
    server = hub_server_factory(hub_settings.with_(database_url=pg_url))
    client, resp = sign_in(server.url, server.admin_key)
    assert resp.status == 200
    assert client.get("/api/admin/users").status == 200
    assert client.delete("/api/auth/session", headers=csrf(client)).status == 200
    assert client.get("/api/admin/users").status == 401


def test_cookie_path_follows_the_mount_path(hub_server_factory, hub_settings):
    server = hub_server_factory(hub_settings.with_(mount_path="/hub"))
    client, resp = sign_in(server.url, server.admin_key)
    assert resp.status == 200
    assert "Path=/hub" in next(c for c in resp.cookies_set() if c.startswith(SESSION_COOKIE))
    assert client.get("/api/auth/session").status == 200
