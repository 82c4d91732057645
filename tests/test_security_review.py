"""Attacks a production user (or a hostile member) could try, and what the hub must answer.

Route sweeps read the app's own URL map, so a route added later is attacked too: a member key against every
admin route, no key, cross-user ids, a session cookie without the CSRF header against every mutating route.
Then secrets in answers and logs, hostile bodies and query strings on every family of endpoints (a clean
error in the endpoint's dialect, never a 500), strings that could poison the usage log, and billing edges.
"""

from __future__ import annotations

import json
import re
import sys
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from hub_billing_credits.testing import account, grant, ledger

from hub_core.testing.billing import new_user, set_rate, settled, use_mode
from hub_core.testing.server import HubServer

sys.path.insert(0, str(Path(__file__).parent / "plugins"))
from hubtest_plugins.http import Answer, call

MODEL = "openai/gpt-4o-mini"
CHAT = {"model": MODEL, "messages": [{"role": "user", "content": "hi"}]}

# --- route sweeps -------------------------------------------------------------------------------------------

ADMIN_PREFIXES = ("/api/admin/", "/api/ai-providers", "/-/plugins", "/api/user/admin/")
PUBLIC = {"/api/ai-providers/models"}  # the original hub's public model list
SAMPLE_ARGS = {"IntegerConverter": "1"}  # any other variable (a plugin or provider name) gets "openai"


def _routes(server: HubServer) -> list[tuple[str, str]]:
    """(method, concrete path) of every route, with sample values for the URL variables."""
    out = []
    for rule in server.app.url_map.iter_rules():
        path = rule.rule
        for name, conv in rule._converters.items():
            sample = SAMPLE_ARGS.get(type(conv).__name__, "openai")
            path = re.sub(rf"<(?:[a-z]+:)?{name}>", sample, path)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            out.append((method, path))
    return out


def _admin_routes(server: HubServer) -> list[tuple[str, str]]:
    prefix = server.settings.mount_path
    routes = [(m, p) for m, p in _routes(server) if p.startswith(tuple(prefix + a for a in ADMIN_PREFIXES))]
    return [(m, p) for m, p in routes if p[len(prefix) :] not in PUBLIC]


def test_member_key_and_no_key_are_refused_on_every_admin_route(hub):
    member = hub.create_key("mallory", "member")
    routes = _admin_routes(hub)
    assert len(routes) >= 35, routes  # the sweep really covers the admin API, plugin routes included
    assert ("POST", "/api/admin/credits/grants") in routes  # a plugin blueprint's admin route
    for method, path in routes:
        body = b"{}" if method != "GET" else None
        as_member = call(method, hub.url + path, key=member, data=body)
        assert as_member.status == 403, (method, path, as_member.status, as_member.text)
        assert as_member.error["code"] == "forbidden"
        anonymous = call(method, hub.url + path, data=body)
        assert anonymous.status == 401, (method, path, anonymous.status, anonymous.text)


def test_members_see_and_change_only_their_own_usage_keys_and_credits(hub):
    use_mode(hub, "credits")
    set_rate(hub, "openai", "gpt-4o-mini", "0.001", "0.002")
    alice_id, alice = new_user(hub, "alice")
    bob_id, bob = new_user(hub, "bob")
    for user_id, key in ((alice_id, alice), (bob_id, bob)):
        grant(hub, user_id, 5)
        assert call("POST", f"{hub.url}/v1/chat/completions", key=key, json_body=CHAT).status == 200
    settled(hub)

    own = call("GET", f"{hub.url}/api/usage/calls", key=alice)
    assert own.status == 200 and {c["userId"] for c in own.body["list"]} == {alice_id}
    for query in (
        f"userId={bob_id}",
        "allUsers=true",
        f"allUsers=1&userId={bob_id}",
    ):
        for path in ("/api/usage/calls", "/api/usage/summary", "/api/usage/quota", "/api/usage/calls/export"):
            answer = call("GET", f"{hub.url}{path}?{query}", key=alice)
            assert answer.status == 403, (path, query, answer.text)
    assert call("GET", f"{hub.url}/api/user/admin/user-stats", key=alice).status == 403
    export = call("GET", f"{hub.url}/api/usage/calls/export", key=alice)
    assert export.status == 200 and export.text.count("\n") == 2  # the header and alice's one call

    mine = call("GET", f"{hub.url}/api/user/credit/transactions", key=alice).body["list"]
    assert mine and {e["userId"] for e in mine} == {alice_id}
    assert (
        call("GET", f"{hub.url}/api/user/credit/balance?userId={bob_id}", key=alice).body["userId"]
        == alice_id
    )

    bob_keys = call("GET", f"{hub.url}/api/me/keys", key=bob).body["list"]
    stolen = call("DELETE", f"{hub.url}/api/me/keys/{bob_keys[0]['id']}", key=alice)
    assert stolen.status == 404
    assert call("POST", f"{hub.url}/v1/chat/completions", key=bob, json_body=CHAT).status == 200
    raised = call("POST", f"{hub.url}/api/me/keys", key=alice, json_body={"name": "x", "role": "admin"})
    assert raised.status == 403


def test_an_admin_cannot_revoke_the_owners_key_but_can_revoke_its_own(hub):
    admin = hub.create_key("ada", "admin")
    keys = call("GET", f"{hub.url}/api/admin/keys?pageSize=100", key=hub.admin_key).body["list"]
    owner_key = next(k for k in keys if k["role"] == "owner")
    refused = call("DELETE", f"{hub.url}/api/admin/keys/{owner_key['id']}", key=admin)
    assert refused.status == 403
    assert call("GET", f"{hub.url}/api/admin/users", key=hub.admin_key).status == 200  # still works
    member = hub.create_key("mel", "member")
    member_key = next(
        k for k in call("GET", f"{hub.url}/api/admin/keys", key=admin).body["list"] if k["name"] == "mel"
    )
    assert call("DELETE", f"{hub.url}/api/admin/keys/{member_key['id']}", key=admin).status == 200
    assert call("GET", f"{hub.url}/v1/models", key=member).status == 401
    own = next(k for k in call("GET", f"{hub.url}/api/me/keys", key=admin).body["list"] if k["current"])
    assert call("DELETE", f"{hub.url}/api/admin/keys/{own['id']}", key=admin).status == 200
    assert call("GET", f"{hub.url}/api/admin/users", key=admin).status == 401


def _expiring_key(server: HubServer, days: float) -> tuple[str, datetime]:
    from hub_core.admin import users

    expires = datetime.now(UTC) + timedelta(days=days)

    async def go() -> str:
        user = await users.create_user("temp", "member")
        return (await users.create_key(user, "temp", "member", expires))[1]

    return server.run(go), expires


def test_a_key_cannot_mint_a_key_that_outlives_it(hub):
    key, expires = _expiring_key(hub, 1)
    child = call("POST", f"{hub.url}/api/me/keys", key=key, json_body={"name": "forever"})
    assert child.status == 201
    assert datetime.fromisoformat(child.body["expiresAt"]) == expires
    later = (expires + timedelta(days=30)).isoformat()
    refused = call("POST", f"{hub.url}/api/me/keys", key=key, json_body={"name": "later", "expiresAt": later})
    assert refused.status == 403
    sooner = (expires - timedelta(hours=1)).isoformat()
    assert (
        call("POST", f"{hub.url}/api/me/keys", key=key, json_body={"name": "s", "expiresAt": sooner}).status
        == 201
    )


def _session(server: HubServer, key: str) -> tuple[dict[str, str], str]:
    """Sign in; returns the Cookie header and the CSRF token."""
    import urllib.request

    req = urllib.request.Request(
        f"{server.url}/api/auth/session",
        data=json.dumps({"key": key}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(req, timeout=10) as resp:
        cookies = [c.split(";", 1)[0] for c in resp.headers.get_all("Set-Cookie")]
        token = json.loads(resp.read())["csrfToken"]
    return {"Cookie": "; ".join(cookies)}, token


NO_SESSION_NEEDED = {("POST", "/api/auth/session"), ("POST", "/api/billing/payments/openai/webhook")}


def test_every_mutating_route_refuses_a_session_cookie_without_the_csrf_header(hub):
    cookie, token = _session(hub, hub.admin_key)
    mutating = [(m, p) for m, p in _routes(hub) if m in ("POST", "PUT", "DELETE", "PATCH")]
    assert ("POST", "/v1/chat/completions") in mutating and ("POST", "/api/admin/credits/sweep") in mutating
    for method, path in mutating:
        if (method, path) in NO_SESSION_NEEDED:
            continue
        answer = call(
            method, hub.url + path, data=b"{}", headers={**cookie, "Content-Type": "application/json"}
        )
        assert answer.status == 403, (method, path, answer.status, answer.text)
        assert "csrf" in answer.text.lower(), (method, path, answer.text)
    # with the header the same cookie works, on the core API and on a plugin's blueprint
    headers = {**cookie, "X-CSRF-Token": token}
    assert call("POST", f"{hub.url}/v1/chat/completions", json_body=CHAT, headers=headers).status == 200
    assert call("POST", f"{hub.url}/api/admin/credits/sweep", json_body={}, headers=headers).status == 200
    # sign-out needs it too, so another site cannot sign the console out
    assert call("DELETE", f"{hub.url}/api/auth/session", headers=cookie).status == 403
    assert call("DELETE", f"{hub.url}/api/auth/session", headers=headers).status == 200
    assert call("GET", f"{hub.url}/api/auth/session", headers=cookie).status == 401


def test_session_cookie_is_secure_behind_an_https_proxy(hub):
    answer = call(
        "POST",
        f"{hub.url}/api/auth/session",
        json_body={"key": hub.admin_key},
        headers={"X-Forwarded-Proto": "https"},
    )
    assert answer.status == 200
    import urllib.request

    req = urllib.request.Request(
        f"{hub.url}/api/auth/session",
        data=json.dumps({"key": hub.admin_key}).encode(),
        headers={"Content-Type": "application/json", "X-Forwarded-Proto": "https"},
        method="POST",
    )
    with urllib.request.urlopen(req, timeout=10) as resp:
        cookies = resp.headers.get_all("Set-Cookie")
    session = next(c for c in cookies if c.startswith("aigne_hub_session="))
    assert "Secure" in session and "HttpOnly" in session and "SameSite=Strict" in session


def test_an_admin_cannot_lock_everyone_out_by_disabling_key_auth(hub):
    refused = call(
        "PUT", f"{hub.url}/api/admin/plugins/key_auth", key=hub.admin_key, json_body={"enabled": False}
    )
    assert refused.status == 409 and refused.error["code"] == "last_auth_plugin"
    assert call("GET", f"{hub.url}/api/admin/plugins", key=hub.admin_key).status == 200
    other = call(
        "PUT", f"{hub.url}/api/admin/plugins/openai", key=hub.admin_key, json_body={"enabled": False}
    )
    assert other.status == 200  # other plugins can still be switched off


def test_disabling_a_user_locks_out_their_keys_at_once(hub):
    user_id, key = new_user(hub, "dora")
    assert call("GET", f"{hub.url}/v1/models", key=key).status == 200  # now cached
    put = call("PUT", f"{hub.url}/api/admin/users/{user_id}", key=hub.admin_key, json_body={"disabled": True})
    assert put.status == 200
    refused = call("GET", f"{hub.url}/v1/models", key=key)
    assert refused.status == 401 and "disabled" in refused.error["message"]


# --- secrets ------------------------------------------------------------------------------------------------

SECRET = "sk-live-THISISTHESECRETVALUE0123456789"


def test_a_provider_credential_never_leaves_the_hub(hub_server_factory, fake_openai_thread, capfd):
    server = hub_server_factory()
    fake_openai_thread.fail_next(401, "Incorrect API key provided: " + SECRET)
    server.add_provider("openai", base_url=fake_openai_thread.base_url, credential=SECRET)
    member = server.create_key("m", "member")
    failed = call("POST", f"{server.url}/v1/chat/completions", key=member, json_body=CHAT)
    assert failed.status == 502
    seen = [
        failed.text,
        call("GET", f"{server.url}/api/ai-providers", key=server.admin_key).text,
        call("GET", f"{server.url}/api/ai-providers/health", key=server.admin_key).text,
        call("GET", f"{server.url}/api/usage/calls?allUsers=true", key=server.admin_key).text,
        json.dumps([dict(r, created_at=None) for r in server.calls()], default=str),
    ]
    for text in seen:
        assert SECRET not in text and SECRET[8:24] not in text
    out, err = capfd.readouterr()
    assert SECRET not in out + err
    assert server.admin_key not in out + err and member not in out + err


# --- hostile input ------------------------------------------------------------------------------------------

HOSTILE_BODIES: list[bytes] = [
    b"",
    b"null",
    b"[]",
    b"1",
    b'"x"',
    b"{",
    b"\xff\xfe\x00",
    b'{"model": 1}',
    b'{"model": null, "messages": null}',
    b'{"model": "' + MODEL.encode() + b'", "messages": "x"}',
    b'{"model": "' + MODEL.encode() + b'", "messages": [1]}',
    b'{"model": "' + MODEL.encode() + b'", "messages": [{"role": "user", "content": {"a": 1}}]}',
    b'{"model": "' + MODEL.encode() + b'", "messages": [{"role": "user", "content": "x"}], "max_tokens": -5}',
    b'{"model": "'
    + MODEL.encode()
    + b'", "messages": [{"role": "user", "content": "x"}], "max_tokens": 1e400}',
    b'{"model": "'
    + MODEL.encode()
    + b'", "messages": [{"role": "user", "content": "x"}], "n": 99999999999999}',
    b'{"model": "' + MODEL.encode() + b'", "messages": [{"role": "user", "content": "x"}], "metadata": "x"}',
    b'{"model": "' + MODEL.encode() + b'", "max_tokens": 9, "messages": [{"role": "user", "content": "x"}], '
    b'"metadata": "x", "stop_sequences": 1, "output_config": []}',
    b'{"model": "\\ud800/x", "messages": [{"role": "user", "content": "x"}]}',
    b'{"model": "' + MODEL.encode() + b'", "messages": [{"role": "user", "content": "\\udfff"}]}',
    b'{"model": "' + MODEL.encode() + b'", "input": 1}',
    b'{"model": "' + MODEL.encode() + b'", "input": {"messages": 1, "modelOptions": 1}}',
    b'{"model": "' + MODEL.encode() + b'", "input": {"prompt": "x", "n": 1e400, "seconds": "x"}}',
    b'{"model": "' + MODEL.encode() + b'", "prompt": 1, "n": "2"}',
    b'{"model": "' + MODEL.encode() + b'", "input": [{"a": 1}], "dimensions": -1}',
    b'{"model": "' + b"a" * 5000 + b'", "messages": [{"role": "user", "content": "x"}]}',
]
CLIENT_POSTS = {
    "/v1/chat/completions": "openai",
    "/v1/embeddings": "openai",
    "/v1/images/generations": "openai",
    "/v1/messages": "anthropic",
    "/v1/messages/count_tokens": "anthropic",
    "/api/v2/chat": "aigne",
    "/api/v2/chat/completions": "aigne",
    "/api/v2/embeddings": "aigne",
    "/api/v2/image": "aigne",
    "/api/v2/image/generations": "aigne",
    "/api/v2/video": "aigne",
}


def _dialect_error(answer: Answer, dialect: str) -> dict[str, Any]:
    """The error object, asserting the dialect's shape."""
    assert isinstance(answer.body, dict), answer.text
    if dialect == "anthropic":
        assert answer.body["type"] == "error"
    error = answer.body["error"]
    assert isinstance(error["message"], str) and error["message"] and "type" in error
    return error


def test_hostile_bodies_get_a_clean_error_in_each_dialect_never_a_500(hub):
    member = hub.create_key("fuzz", "member")
    for path, dialect in CLIENT_POSTS.items():
        for body in HOSTILE_BODIES:
            answer = call(
                "POST", hub.url + path, key=member, data=body, headers={"Content-Type": "application/json"}
            )
            assert answer.status < 500 or answer.status in (502, 504), (path, body[:80], answer.text[:300])
            if answer.status >= 400:
                _dialect_error(answer, dialect)
    # the hostile calls that got through were logged, and the log still takes new rows
    before = len(hub.calls())
    assert call("POST", f"{hub.url}/v1/chat/completions", key=member, json_body=CHAT).status == 200
    assert len(hub.wait_for_calls(before + 1)) == before + 1
    assert hub.hub.writer.pending == 0


def test_a_lone_surrogate_is_a_400_not_a_poisoned_usage_log(hub):
    member = hub.create_key("s", "member")
    body = b'{"model": "openai/\\ud800", "messages": [{"role": "user", "content": "hi"}]}'
    bad = call("POST", f"{hub.url}/v1/chat/completions", key=member, data=body)
    assert bad.status == 400 and "surrogate" in bad.error["message"]
    # a proper pair (an emoji written as escapes) is fine
    emoji = b'{"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "\\ud83d\\ude00"}]}'
    assert call("POST", f"{hub.url}/v1/chat/completions", key=member, data=emoji).status == 200
    assert call("POST", f"{hub.url}/v1/chat/completions", key=member, json_body=CHAT).status == 200
    assert len(hub.wait_for_calls(2)) == 2


HOSTILE_QUERIES = [
    {"page": "-1"},
    {"page": "1e400"},
    {"page": "nan"},
    {"page": "99999999999999999999999"},
    {"pageSize": "-5"},
    {"startTime": "99999999999999999999"},
    {"endTime": "99999999999999999999"},
    {"startTime": "-99999999999999"},
    {"endTime": "inf"},
    {"timeRange": "99999999999"},
    {"timezoneOffset": "1e400"},
    {"tz": "../../etc/passwd"},
    {"userId": "99999999999999999999999"},
    {"minDurationSeconds": "nan"},
    {"limit": "1e400"},
    {"search": "\x00%_"},
    {"q": "\x00"},
    {"model": "\x00"},
]


@pytest.mark.parametrize("database", ["sqlite", "postgres"])
def test_hostile_query_strings_on_read_apis_never_500(database, hub_server_factory, hub_settings, request):
    settings = hub_settings
    if database == "postgres":
        settings = settings.with_(database_url=request.getfixturevalue("pg_url"))
    server = hub_server_factory(settings)
    gets = [p for m, p in _routes(server) if m == "GET" and p.startswith(("/api/", "/v1/"))]
    assert "/api/usage/calls/export" in gets and "/api/admin/credits/accounts" in gets
    for path in gets:
        for query in HOSTILE_QUERIES:
            answer = call("GET", f"{server.url}{path}?{urlencode(query)}", key=server.admin_key)
            assert answer.status < 500, (path, query, answer.text[:300])
            if answer.status >= 400:
                assert answer.body["error"]["message"], (path, query)


ADMIN_WRITES = [
    ("POST", "/api/admin/users", {"name": "n", "email": "x" * 5000}),
    ("PUT", "/api/admin/users/2", {"name": "x" * 5000}),
    ("POST", "/api/admin/keys", {"name": "n", "userId": 10**30}),
    ("POST", "/api/admin/keys", {"name": "n", "userId": 1e308}),
    ("PUT", "/api/ai-providers/1", {"baseUrl": ["x"]}),
    ("PUT", "/api/ai-providers/1", {"region": "x" * 5000}),
    (
        "POST",
        "/api/ai-providers/1/credentials",
        {"value": "sk-aaaaaaaaaaaa", "verify": False, "name": {"a": 1}},
    ),
    ("PUT", "/api/ai-providers/1/credentials/1", {"weight": "nan"}),
    ("PUT", "/api/ai-providers/1/credentials/1", {"weight": None}),
    (
        "POST",
        "/api/ai-providers/model-rates",
        {"provider": "openai", "model": "m", "inputRate": "1e400", "outputRate": 1},
    ),
    (
        "POST",
        "/api/ai-providers/model-rates",
        {"provider": "openai", "model": "m", "inputRate": 1, "outputRate": 1e308},
    ),
    ("POST", "/api/ai-providers/bulk-rate-update", {"profitMargin": "1e400", "creditPrice": 1}),
    ("POST", "/api/admin/credits/grants", {"userId": 1, "amount": "1", "expiresInDays": "nan"}),
    ("POST", "/api/admin/credits/grants", {"userId": 10**30, "amount": "1"}),
    ("POST", "/api/admin/credits/debits", {"userId": 1, "amount": "1", "reason": "x" * 5000}),
]


def test_hostile_admin_bodies_are_400s(hub):
    grant(hub, 1, 5)  # so the debit gets as far as writing its (too long) reason
    for method, path, body in ADMIN_WRITES:
        answer = call(method, hub.url + path, key=hub.admin_key, json_body=body)
        assert 400 <= answer.status < 500, (method, path, body, answer.status, answer.text[:300])
        assert answer.body["error"]["message"]


def test_nul_characters_from_clients_do_not_stop_usage_logging_on_postgres(
    hub_server_factory, hub_settings, pg_url, fake_openai_thread
):
    server = hub_server_factory(hub_settings.with_(database_url=pg_url))
    server.add_provider("openai", base_url=fake_openai_thread.base_url, credential=fake_openai_thread.api_key)
    key = server.create_key("n", "member")
    nul_model = {"model": "openai/gpt\u0000x", "messages": [{"role": "user", "content": "hi"}]}
    assert call("POST", f"{server.url}/v1/chat/completions", key=key, json_body=nul_model).status == 200
    headers = {"x-aigne-hub-client-did": "%00app"}
    assert (
        call("POST", f"{server.url}/v1/chat/completions", key=key, json_body=CHAT, headers=headers).status
        == 200
    )
    assert call("POST", f"{server.url}/v1/chat/completions", key=key, json_body=CHAT).status == 200
    rows = server.wait_for_calls(3)
    assert [r["model"] for r in rows] == ["openai/gptx", MODEL, MODEL]
    assert rows[1]["app_did"] == "app" and server.hub.writer.pending == 0


def test_a_spill_file_cut_short_by_a_crash_does_not_keep_the_hub_from_starting(
    hub_server_factory, hub_settings
):
    from dataclasses import asdict

    from hub_core.types import CallRecord

    hub_settings.data_dir.mkdir(parents=True, exist_ok=True)
    good = CallRecord(request_id="spilled-1", endpoint="/v1/chat/completions", kind="chat", model=MODEL)
    odd = CallRecord(
        request_id="spilled-2", endpoint="/v1/chat/completions", kind="chat", model="a/\ud800\x00"
    )
    lines = [json.dumps(asdict(good)), json.dumps(asdict(odd)), json.dumps(asdict(good))[:40]]
    (hub_settings.data_dir / "usage-spill.jsonl").write_text("\n".join(lines))
    server = hub_server_factory(hub_settings)
    rows = server.calls()
    assert [r["request_id"] for r in rows] == ["spilled-1", "spilled-2"]
    assert rows[1]["model"] == "a/?"
    assert not (hub_settings.data_dir / "usage-spill.jsonl").exists()


# --- billing edges ------------------------------------------------------------------------------------------


@pytest.fixture
def credits_hub(hub):
    use_mode(hub, "credits")
    set_rate(hub, "openai", "gpt-4o-mini", "0.001", "0.002")
    set_rate(hub, "openai", "dall-e-3", "0", "0.5", kind="image")
    return hub


def test_hostile_limits_in_credits_mode_are_refused_or_priced_never_free(credits_hub):
    hub = credits_hub
    user_id, key = new_user(hub, "edgy")
    grant(hub, user_id, 1)
    url = f"{hub.url}/v1/chat/completions"
    cases = [
        ({**CHAT, "max_tokens": 10**30}, 402),  # the worst case cannot be afforded
        ({**CHAT, "max_tokens": 10, "n": 10**6}, 400),
        ({**CHAT, "max_tokens": -1}, 200),  # no usable limit: the default reserve is held
        ({**CHAT, "max_tokens": "10"}, 200),
        ({**CHAT, "max_tokens": 10, "n": True}, 400),
    ]
    for body, status in cases:
        answer = call("POST", url, key=key, json_body=body)
        assert answer.status in (status, 400), (body, answer.text[:200])
        settled(hub)  # a call's hold is released after its usage row is written, just after the answer
    images = f"{hub.url}/v1/images/generations"
    for n in (10**9, -1, 0, "3", 2.5):
        body = {"model": "openai/dall-e-3", "prompt": "x", "n": n}
        assert call("POST", images, key=key, json_body=body).status == 400, n
    settled(hub)
    acct = account(hub, user_id)
    assert acct["held"] == 0 and acct["balance"] == acct["ledger"] == acct["grants"] >= 0
    charged = [e for e in ledger(hub, user_id) if e["kind"] == "charge"]
    calls = [r for r in hub.calls(user_id=user_id) if r["status"] == "success"]
    assert len(charged) == len(calls) >= 2  # every successful call was charged


def test_a_missed_settlement_is_charged_from_the_usage_log_when_the_hold_goes_stale(credits_hub):
    hub = credits_hub
    user_id, key = new_user(hub, "lucky")
    grant(hub, user_id, 10)
    mode = hub.hub.gateway.billing.modes["credits"]
    real_settle = mode.settle

    async def database_away(*_args: Any, **_kw: Any) -> int:
        raise ConnectionResetError("the database went away")

    # every settlement attempt fails, as when the hub died, or stopped, before the database came back
    mode.settle = database_away
    try:
        answer = call("POST", f"{hub.url}/v1/chat/completions", key=key, json_body={**CHAT, "max_tokens": 20})
        assert answer.status == 200
        cost = Decimal(answer.headers["x-aigne-hub-credits"])
        settled(hub)  # the settlement task gave up and deferred it (which keeps failing here)
        assert account(hub, user_id)["held"] > 0  # the hold is still there: nothing charged yet

        async def sweep_now() -> dict[str, int]:
            from hub_billing_credits import ledger as credits_ledger

            return {
                "released": await credits_ledger.release_stale_holds(
                    0, hub.hub.gateway.billing.logged_credits
                )
            }

        assert hub.run(sweep_now) == {"released": 1}
    finally:
        mode.settle = real_settle
    acct = account(hub, user_id)
    assert acct["held"] == 0 and acct["balance"] == Decimal(10) - cost
    assert acct["balance"] == acct["ledger"] == acct["grants"]
    charge = ledger(hub, user_id)[-1]
    assert charge["kind"] == "charge" and Decimal(charge["amount"]) / 10**10 == -cost
    assert hub.run(sweep_now) == {"released": 0}  # idempotent
    # the deferred settlement, once it gets through, finds the call settled and charges nothing more
    billing = hub.hub.gateway.billing
    deadline = time.monotonic() + 15
    while billing._late and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not billing._late
    assert [e["kind"] for e in ledger(hub, user_id)].count("charge") == 1
    assert account(hub, user_id)["balance"] == Decimal(10) - cost


def test_a_settlement_the_database_missed_is_made_once_it_answers_again(credits_hub):
    """Settlement tries a few times (about 1.5 s), then defers the call to one background task that retries
    until the database answers, instead of leaving the credits held until the sweeper's time-out (6 hours
    by default; `tests/test_db_cluster.py` stops a real server for longer than the tries)."""
    hub = credits_hub
    user_id, key = new_user(hub, "patient")
    grant(hub, user_id, 10)
    mode = hub.hub.gateway.billing.modes["credits"]
    real_settle = mode.settle
    away = True

    async def while_away(*args: Any, **kw: Any) -> int:
        if away:
            raise ConnectionRefusedError("the database is away")
        return await real_settle(*args, **kw)

    mode.settle = while_away
    try:
        answers = [
            call("POST", f"{hub.url}/v1/chat/completions", key=key, json_body={**CHAT, "max_tokens": 20})
            for _ in range(3)
        ]
        assert [a.status for a in answers] == [200] * 3
        cost = sum(Decimal(a.headers["x-aigne-hub-credits"]) for a in answers)
        settled(hub)  # the settlement tasks gave up and deferred the calls
        assert account(hub, user_id)["held"] > 0
        away = False  # the database answers again
        deadline = time.monotonic() + 15
        while account(hub, user_id)["held"] and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        mode.settle = real_settle
    acct = account(hub, user_id)
    assert acct["held"] == 0 and acct["balance"] == Decimal(10) - cost
    assert acct["balance"] == acct["ledger"] == acct["grants"]
    charges = [e for e in ledger(hub, user_id) if e["kind"] == "charge"]
    assert len(charges) == 3 and not any("reconciled" in (e["metadata"] or {}) for e in charges)


def test_a_stale_hold_without_a_logged_call_is_released_free(credits_hub):
    hub = credits_hub
    user_id, _ = new_user(hub, "ghost")
    grant(hub, user_id, 3)

    async def orphan_then_sweep() -> int:
        from hub_billing_credits import ledger as credits_ledger

        assert await credits_ledger.reserve(user_id, 10**10, 10**10, "c" * 32, "never-logged") == 10**10
        return await credits_ledger.release_stale_holds(0, hub.hub.gateway.billing.logged_credits)

    assert hub.run(orphan_then_sweep) == 1
    acct = account(hub, user_id)
    assert acct["held"] == 0 and acct["balance"] == 3 == acct["ledger"]


def test_a_reservation_whose_answer_was_lost_is_released_for_nothing(credits_hub):
    """The database can commit a hold and lose the answer (the connection dropped or timed out during the
    commit; `tests/test_db_cluster.py` sees it when it stops a real server): the client got 503, so the hub
    releases that hold once the database answers instead of leaving it held until the sweeper's time-out."""
    hub = credits_hub
    user_id, key = new_user(hub, "unlucky")
    grant(hub, user_id, 10)
    mode = hub.hub.gateway.billing.modes["credits"]
    real_admit = mode.admit

    async def committed_then_lost(call: Any) -> Any:
        await real_admit(call)
        raise ConnectionResetError("connection lost during the commit")

    mode.admit = committed_then_lost
    try:
        answer = call("POST", f"{hub.url}/v1/chat/completions", key=key, json_body={**CHAT, "max_tokens": 20})
    finally:
        mode.admit = real_admit
    assert answer.status == 503 and answer.error["code"] == "billing_unavailable"
    deadline = time.monotonic() + 15
    while account(hub, user_id)["held"] and time.monotonic() < deadline:
        time.sleep(0.1)
    acct = account(hub, user_id)
    assert acct["held"] == 0 and acct["holds"] == 0
    assert acct["balance"] == 10 == acct["ledger"] == acct["grants"]
    assert [e["kind"] for e in ledger(hub, user_id)] == ["grant"]
