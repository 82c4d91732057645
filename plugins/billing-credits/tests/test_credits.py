"""The credits mode on its own: expiring grants, the welcome grant (exactly once), admin grants and debits,
idempotent settlement, and payment webhooks credited exactly once per event id."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from importlib import metadata
from pathlib import Path

import pytest
from hub_billing_credits.testing import account, grant, ledger

from hub_core.billing import to_units
from hub_core.testing import call, make_settings, new_user, ok, set_rate, settled, use_mode, user_did

sys.path.insert(0, str(Path(__file__).parent))

import credits_testpay


def chat(server, key: str, max_tokens: int = 2) -> int:
    body = {
        "model": "openai/gpt-4o-mini",
        "max_tokens": max_tokens,
        "messages": [{"role": "user", "content": "hi"}],
    }
    return call("POST", f"{server.url}/v1/chat/completions", key, body).status


@pytest.fixture
def credits(hub):
    """Credits mode; a call answering "Echo: hi" costs exactly 2 credits (1 per output token)."""
    use_mode(hub, "credits")
    set_rate(hub, "openai", "gpt-4o-mini", 0, 1)
    return hub


def test_charges_use_the_grant_that_expires_first_and_expiry_removes_only_what_is_left(credits):
    user_id, key = new_user(credits)
    soon = (datetime.now(UTC) + timedelta(seconds=2)).isoformat()
    grant(credits, user_id, 10, expiresAt=soon, reason="trial")
    grant(credits, user_id, 10, reason="forever")
    assert chat(credits, key) == 200
    settled(credits)
    grants = ok(call("GET", f"{credits.url}/api/admin/credits/accounts/{user_id}/grants", credits.admin_key))[
        "list"
    ]
    remaining = {("expiring" if g["expiresAt"] else "forever"): g["remaining"] for g in grants}
    assert remaining == {"expiring": "8", "forever": "10"}

    time.sleep(2.2)
    balance = ok(call("GET", f"{credits.url}/api/user/credit/balance", key))  # expires due grants first
    assert balance["balance"] == "10" and balance["used"] == "10"
    expiry = [e for e in ledger(credits, user_id) if e["kind"] == "expiry"]
    assert len(expiry) == 1 and Decimal(expiry[0]["amount"]) / 10**10 == -8
    assert ok(call("POST", f"{credits.url}/api/admin/credits/sweep", credits.admin_key)) == {
        "expired": 0,
        "released": 0,
    }
    acct = account(credits, user_id)
    assert acct["balance"] == acct["ledger"] == acct["grants"] == 10
    detail = ok(call("GET", f"{credits.url}/api/admin/credits/accounts/{user_id}", credits.admin_key))
    assert detail["consistency"]["ok"] is True


def test_the_sweeper_expires_grants_without_anyone_asking(hub_server_factory, fake_openai_thread, tmp_path):
    server = hub_server_factory(make_settings(tmp_path / "sweep"))
    use_mode(server, "credits", sweep_interval_seconds=0.3)
    user_id, _ = new_user(server)
    grant(server, user_id, 5, expiresInDays=1 / 86400)
    deadline = time.monotonic() + 10
    while account(server, user_id)["balance"] != 0 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert account(server, user_id)["balance"] == 0
    assert [e["kind"] for e in ledger(server, user_id)] == ["grant", "expiry"]


def test_a_new_user_gets_the_welcome_grant_exactly_once(credits):
    ok(
        call(
            "PUT",
            f"{credits.url}/api/admin/billing",
            credits.admin_key,
            {"settings": {"welcome_amount": "3", "welcome_expiry_days": 30}},
        )
    )
    user_id, key = new_user(credits)
    with ThreadPoolExecutor(10) as pool:
        statuses = list(pool.map(lambda _: chat(credits, key), range(10)))
    assert statuses.count(200) == 1 and statuses.count(402) == 9  # 3 credits buy one 2-credit call
    ok(call("GET", f"{credits.url}/api/user/info", key))
    ok(call("GET", f"{credits.url}/api/user/credit/balance", key))
    settled(credits)
    grants = [e for e in ledger(credits, user_id) if e["kind"] == "grant"]
    assert len(grants) == 1 and grants[0]["reason"] == "welcome grant"
    expires = datetime.fromisoformat(grants[0]["metadata"]["expiresAt"])
    assert timedelta(days=29) < expires - datetime.now(UTC) < timedelta(days=31)
    assert account(credits, user_id)["balance"] == 1


def test_admin_grants_and_debits_are_in_the_ledger_with_who_and_why(credits):
    user_id, key = new_user(credits)
    entry = grant(credits, user_id, "2.5", reason="support ticket 42")
    assert entry["kind"] == "grant" and entry["amount"] == "2.5" and entry["actorUserId"] is not None
    taken = ok(
        call(
            "POST",
            f"{credits.url}/api/admin/credits/debits",
            credits.admin_key,
            {"userId": user_id, "amount": 5, "reason": "correction"},
        )
    )
    assert taken == {"taken": "2.5"}  # never below zero
    mine = ok(call("GET", f"{credits.url}/api/user/credit/transactions", key))
    assert [(e["kind"], e["amount"], e["reason"]) for e in mine["list"]] == [
        ("adjust", "-2.5", "correction"),
        ("grant", "2.5", "support ticket 42"),
    ]
    assert (
        call("POST", f"{credits.url}/api/admin/credits/grants", key, {"userId": user_id, "amount": 1}).status
        == 403
    )
    bad = call(
        "POST",
        f"{credits.url}/api/admin/credits/grants",
        credits.admin_key,
        {"userId": user_id, "amount": "-1"},
    )
    assert bad.status == 400
    missing = call(
        "POST", f"{credits.url}/api/admin/credits/grants", credits.admin_key, {"userId": 9999, "amount": 1}
    )
    assert missing.status == 404
    listed = ok(call("GET", f"{credits.url}/api/admin/credits/accounts?q=user", credits.admin_key))
    assert any(a["userId"] == user_id and a["balance"] == "0" for a in listed["list"])


def _audit(server, **params: str) -> list[dict]:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return ok(call("GET", f"{server.url}/api/admin/audit?{query}", server.admin_key))["list"]


def _cli(server, *args: str) -> str:
    """``aigne-hub`` as an operator runs it, on the hub's data directory."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIGNE_HUB_", "BLOCKLET_"))}
    env["AIGNE_HUB_DATA_DIR"] = str(server.settings.data_dir)
    exe = Path(sys.executable).parent / "aigne-hub"
    done = subprocess.run([str(exe), *args], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_grants_and_debits_are_in_the_audit_log_with_who_before_and_after(credits):
    user_id, key = new_user(credits)
    grant(credits, user_id, "2.5", reason="support ticket 42", expiresInDays=30)
    debit = {"userId": user_id, "amount": 5, "reason": "correction"}
    assert ok(call("POST", f"{credits.url}/api/admin/credits/debits", credits.admin_key, debit)) == {
        "taken": "2.5"
    }
    # refused changes leave no entry: a member's grant, a bad amount, nothing left to take
    assert (
        call("POST", f"{credits.url}/api/admin/credits/grants", key, {"userId": user_id, "amount": 1}).status
        == 403
    )
    bad = {"userId": user_id, "amount": "-1"}
    assert call("POST", f"{credits.url}/api/admin/credits/grants", credits.admin_key, bad).status == 400
    ok(call("POST", f"{credits.url}/api/admin/credits/debits", credits.admin_key, debit))
    nobody = {**debit, "userId": 9999}
    assert call("POST", f"{credits.url}/api/admin/credits/debits", credits.admin_key, nobody).status == 404

    taken, granted = _audit(credits, action="credits.")
    owner = granted["actor"]
    assert owner["kind"] == "user" and owner["name"] == "owner" and owner["keyId"] is not None
    assert (granted["action"], granted["targetType"], granted["targetId"]) == (
        "credits.grant",
        "credit_account",
        str(user_id),
    )
    assert granted["before"] == {"balance": "0"}
    after = granted["after"]
    assert {k: after[k] for k in ("balance", "amount", "kind", "reason")} == {
        "balance": "2.5",
        "amount": "2.5",
        "kind": "grant",
        "reason": "support ticket 42",
    }
    expires = datetime.fromisoformat(after["expiresAt"])
    assert timedelta(days=29) < expires - datetime.now(UTC) < timedelta(days=31)
    assert after["ledgerEntryId"] == ledger(credits, user_id)[0]["id"]
    assert taken["action"] == "credits.debit" and taken["actor"] == owner
    assert (taken["before"], taken["after"]["balance"]) == ({"balance": "2.5"}, "0")
    assert (taken["after"]["amount"], taken["after"]["requested"]) == ("2.5", "5")

    # the same operations from the shell are recorded as the command line's
    _cli(credits, "billing", "grant", str(user_id), "4", "--reason", "from the shell")
    _cli(credits, "billing", "take", str(user_id), "1", "--reason", "shell correction")
    took, gave = _audit(credits, action="credits.", actor="cli")
    cli = {"kind": "cli", "userId": None, "name": "cli", "keyId": None}
    assert gave["actor"] == took["actor"] == cli
    assert (gave["before"], gave["after"]["balance"], gave["after"]["reason"]) == (
        {"balance": "0"},
        "4",
        "from the shell",
    )
    assert (took["before"], took["after"]["balance"], took["after"]["reason"]) == (
        {"balance": "4"},
        "3",
        "shell correction",
    )


def test_settlement_is_idempotent_per_call(credits):
    from hub_billing_credits import ledger as ops

    user_id, _ = new_user(credits)
    grant(credits, user_id, 10)

    three, five = to_units(3), to_units(5)

    async def twice() -> list[int]:
        assert await ops.reserve(user_id, three, five, "call-1", "req-1") == five
        first = await ops.settle(user_id, "call-1", three)
        again = await ops.settle(user_id, "call-1", three)
        return [first, again]

    assert credits.run(twice) == [three, three]
    acct = account(credits, user_id)
    assert acct["balance"] == 7 and acct["held"] == 0
    assert [e["kind"] for e in ledger(credits, user_id)] == ["grant", "charge"]


# --- payments -----------------------------------------------------------------------------------------------


@pytest.fixture
def pay_hub(hub_server_factory, hub_settings, fake_openai_thread):
    eps = [
        *metadata.entry_points(group="aigne_hub"),
        metadata.EntryPoint("testpay", "credits_testpay", "aigne_hub"),
    ]
    server = hub_server_factory(hub_settings, entry_points=eps)
    server.add_provider("openai", base_url=fake_openai_thread.base_url, credential=fake_openai_thread.api_key)
    use_mode(server, "credits")
    set_rate(server, "openai", "gpt-4o-mini", 0, 1)
    return server


def _post_raw(server, body: bytes, signature: str) -> tuple[int, dict]:
    import urllib.error
    import urllib.request

    req = urllib.request.Request(
        f"{server.url}/api/billing/payments/testpay/webhook",
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", "x-testpay-signature": signature},
    )
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_a_verified_payment_credits_the_user_exactly_once_per_event(pay_hub):
    user_id, key = new_user(pay_hub)
    did = user_did(pay_hub, user_id)
    assert chat(pay_hub, key) == 402
    refused = call(
        "POST",
        f"{pay_hub.url}/v1/chat/completions",
        key,
        {"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]},
    )
    assert "https://testpay.example/checkout" in refused.body["error"]["message"]  # the plugin's link

    event = {"id": "evt_1", "type": "payment.succeeded", "data": {"userDid": did, "credits": "6"}}
    body = json.dumps(event).encode()
    with ThreadPoolExecutor(6) as pool:  # the payment service retries: the same event six times at once
        results = list(pool.map(lambda _: _post_raw(pay_hub, body, credits_testpay.sign(body)), range(6)))
    assert all(status == 200 for status, _ in results)
    assert sum(1 for _, r in results if r["credited"]) == 1
    assert account(pay_hub, user_id)["balance"] == 6
    topups = [e for e in ledger(pay_hub, user_id) if e["kind"] == "topup"]
    assert len(topups) == 1 and topups[0]["metadata"]["eventId"] == "evt_1"

    assert chat(pay_hub, key) == 200  # the user can call again
    other = {"id": "evt_2", "type": "payment.succeeded", "data": {"userDid": did, "credits": "1"}}
    assert _post_raw(pay_hub, json.dumps(other).encode(), credits_testpay.sign(json.dumps(other).encode()))[
        1
    ]["credited"]
    settled(pay_hub)
    assert account(pay_hub, user_id)["balance"] == 6 - 2 + 1


def test_forged_stale_and_irrelevant_webhooks_credit_nothing(pay_hub):
    user_id, _ = new_user(pay_hub)
    did = user_did(pay_hub, user_id)
    event = json.dumps(
        {"id": "evt_x", "type": "payment.succeeded", "data": {"userDid": did, "credits": "100"}}
    ).encode()
    forged = credits_testpay.sign(event, secret="not-the-secret")
    assert _post_raw(pay_hub, event, forged)[0] == 400
    stale = credits_testpay.sign(event, timestamp=int(time.time()) - 3600)
    assert _post_raw(pay_hub, event, stale)[0] == 400
    tampered = credits_testpay.sign(event)
    assert _post_raw(pay_hub, event.replace(b"100", b"999"), tampered)[0] == 400
    refund = json.dumps({"id": "evt_y", "type": "payment.refunded", "data": {}}).encode()
    status, answer = _post_raw(pay_hub, refund, credits_testpay.sign(refund))
    assert status == 200 and answer["credited"] is False
    assert account(pay_hub, user_id)["balance"] == 0
    assert call("POST", f"{pay_hub.url}/api/billing/payments/nope/webhook", body={}).status == 404


def test_the_buy_credits_page_data_without_a_payment_plugin(credits):
    """`GET /api/user/credit/purchase` (the console's /credits page, the default 402 link): the balance, the
    admin's contact text and welcome grant; no way to pay online, and the 402 link leads to that page."""
    user_id, key = new_user(credits)
    call(
        "PUT",
        f"{credits.url}/api/admin/billing",
        credits.admin_key,
        {"settings": {"contact_text": "ops@example.com"}},
    )
    grant(credits, user_id, 3)
    info = ok(call("GET", f"{credits.url}/api/user/credit/purchase", key))
    assert (
        info["active"] is True and info["balance"]["balance"] == "3" and info["contact"] == "ops@example.com"
    )
    assert info["options"] == [] and info["welcome"] == {"amount": "0", "expiresInDays": None}
    assert call("GET", f"{credits.url}/api/user/credit/purchase").status == 401
    _, poor_key = new_user(credits)
    refused = call(
        "POST",
        f"{credits.url}/v1/chat/completions",
        poor_key,
        {"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]},
    )
    assert refused.status == 402 and refused.body["error"]["message"].endswith(f"{credits.url}/credits")


def test_a_payment_plugin_adds_its_button_to_the_buy_credits_page(pay_hub):
    _, key = new_user(pay_hub)
    info = ok(call("GET", f"{pay_hub.url}/api/user/credit/purchase", key))
    assert info["options"] == [
        {"name": "testpay", "displayName": "Test Pay", "link": "https://testpay.example/checkout"}
    ]
    call(
        "PUT",
        f"{pay_hub.url}/api/admin/billing",
        pay_hub.admin_key,
        {"settings": {"payment_link": "https://shop.example/c"}},
    )
    info = ok(call("GET", f"{pay_hub.url}/api/user/credit/purchase", key))
    assert [o["name"] for o in info["options"]] == ["link", "testpay"]
