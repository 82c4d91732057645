"""Billing edges found by attacking the hub (issue 15): what the cost header says must be what is charged,
even when the upstream ignores ``max_tokens``, and a client that leaves before the first byte has aborted
its call, which costs nothing (docs/billing.md, "Failed and aborted calls")."""

from __future__ import annotations

import json
import socket
import time
from decimal import Decimal

import pytest
from hub_billing_credits.testing import account, grant, ledger

from hub_core.testing.billing import call, new_user, set_rate, settled, use_mode

IN, OUT = Decimal("0.001"), Decimal("0.002")
WORDS = " ".join(f"w{i}" for i in range(24))


@pytest.fixture
def credits_hub(hub):
    use_mode(hub, "credits")
    for model in ("gpt-4o-mini", "slow-2"):
        set_rate(hub, "openai", model, IN, OUT)
    return hub


def test_the_cost_header_is_the_charge_when_the_upstream_ignores_max_tokens(credits_hub):
    """Before: the header overstated the charge on 25 of 26 answers (the fake answers 25 tokens whatever
    max_tokens says, and the balance covered little more than the hold)."""
    hub = credits_hub
    user_id, key = new_user(hub)
    grant(hub, user_id, Decimal("0.2"))
    body = {"model": "openai/gpt-4o-mini", "max_tokens": 2, "messages": [{"role": "user", "content": WORDS}]}
    headers, charges = [], []
    for _ in range(6):
        answer = call("POST", f"{hub.url}/v1/chat/completions", key, body)
        if answer.status == 402:
            break  # (before the fix: the overrun ate the balance)
        assert answer.status == 200, answer.body
        assert answer.body["usage"]["completion_tokens"] > 2  # the upstream ignored the limit
        headers.append(Decimal(answer.headers["x-aigne-hub-credits"]))
    settled(hub)
    charges = [-Decimal(e["amount"]) / 10**10 for e in ledger(hub, user_id) if e["kind"] == "charge"]
    assert sorted(headers) == sorted(charges)
    assert len(headers) >= 4  # (the rest: 402 once the free balance cannot cover a hold)
    rows = hub.calls(status="success")
    assert len(rows) == len(headers)
    assert all(r["metadata"].get("output_over_limit") for r in rows)
    assert all(r["output_tokens"] > 2 for r in rows)  # the log keeps what the upstream reported
    acct = account(hub, user_id)
    assert acct["balance"] == acct["ledger"] == Decimal("0.2") - sum(charges)


def test_a_client_that_leaves_before_the_first_byte_aborted_its_call(credits_hub):
    """Before: logged as HTTP 500 "CancelledError"."""
    hub = credits_hub
    user_id, key = new_user(hub)
    grant(hub, user_id, 50)  # room for both calls' holds, whenever the first is settled
    for stream in (False, True):
        body = json.dumps(
            {"model": "openai/slow-2", "stream": stream, "messages": [{"role": "user", "content": "hi"}]}
        ).encode()
        sock = socket.create_connection(("127.0.0.1", hub.port))
        sock.sendall(
            b"POST /v1/chat/completions HTTP/1.1\r\nHost: hub\r\nContent-Type: application/json\r\n"
            + f"Authorization: Bearer {key}\r\nContent-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
        time.sleep(0.5)  # the call is waiting for the upstream's first byte
        sock.close()
    rows = hub.wait_for_calls(2, timeout=15)
    assert [(r["status"], r["http_status"]) for r in rows] == [("aborted", 499)] * 2, rows
    settled(hub)
    acct = account(hub, user_id)
    assert acct["balance"] == 50 and acct["held"] == acct["holds"] == 0
