"""Billing around the gateway, through real clients: what a user of the credits mode notices.

Calls are priced from the provider's usage, paid from the caller's credits, refused with 402 and the payment
link in every dialect when the credits run out, and an admin grant lets the user continue; the ledger, the
balance, the call log and the response headers agree to the credit.
"""

from __future__ import annotations

from decimal import Decimal

import anthropic
import openai
import pytest
from hub_billing_credits.testing import account, grant, ledger

from hub_core.testing.billing import call, new_user, ok, set_rate, settled, use_mode

IN, OUT = Decimal("0.001"), Decimal("0.002")


@pytest.fixture
def credits_hub(hub):
    """The standard test hub in credits mode, with a rate for openai/gpt-4o-mini."""
    use_mode(hub, "credits", payment_link="https://pay.example/buy")
    set_rate(hub, "openai", "gpt-4o-mini", IN, OUT)
    return hub


def client(server, key: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{server.url}/v1", api_key=key, max_retries=0)


def ask(server, key: str, text: str = "hi", **kw):
    return client(server, key).chat.completions.with_raw_response.create(
        model="openai/gpt-4o-mini", messages=[{"role": "user", "content": text}], **kw
    )


def test_a_call_costs_its_usage_at_the_model_rate_and_the_answer_says_so(credits_hub):
    user_id, key = new_user(credits_hub)
    grant(credits_hub, user_id, 10)
    raw = ask(credits_hub, key, "hello there", max_tokens=50)
    reply = raw.parse()
    cost = reply.usage.prompt_tokens * IN + reply.usage.completion_tokens * OUT
    assert Decimal(raw.headers["x-aigne-hub-credits"]) == cost
    settled(credits_hub)
    acct = account(credits_hub, user_id)
    assert acct["balance"] == 10 - cost and acct["held"] == 0
    assert acct["balance"] == acct["ledger"] == acct["grants"]
    charge = ledger(credits_hub, user_id)[-1]
    assert charge["kind"] == "charge" and Decimal(charge["amount"]) / 10**10 == -cost
    row = credits_hub.calls()[-1]
    assert Decimal(row["credits"]) / 10**10 == cost and row["metadata"]["credits"] == str(cost.normalize())


def test_streamed_call_is_charged_from_the_streams_final_usage(credits_hub):
    user_id, key = new_user(credits_hub)
    grant(credits_hub, user_id, 10)
    stream = client(credits_hub, key).chat.completions.create(
        model="openai/gpt-4o-mini",
        messages=[{"role": "user", "content": "one two three"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    usage = [c.usage for c in stream if c.usage][-1]
    settled(credits_hub)
    cost = usage.prompt_tokens * IN + usage.completion_tokens * OUT
    assert account(credits_hub, user_id)["balance"] == 10 - cost


def test_out_of_credits_is_402_with_the_payment_link_and_a_grant_lets_the_user_continue(credits_hub):
    user_id, key = new_user(credits_hub)
    grant(credits_hub, user_id, "0.05")  # each call holds 4 prompt + 10 output tokens worth: about 0.03
    spent = Decimal(0)
    refused = None
    for _ in range(5):
        try:
            raw = ask(credits_hub, key, max_tokens=10)
            spent += Decimal(raw.headers["x-aigne-hub-credits"])
        except openai.APIStatusError as exc:
            refused = exc
            break
    assert refused is not None and refused.status_code == 402
    assert refused.body["type"] == "NOT_ENOUGH" and refused.body["code"] == "insufficient_credits"
    assert "https://pay.example/buy" in refused.body["message"]
    assert refused.response.headers["x-aigne-hub-payment-link"] == "https://pay.example/buy"
    settled(credits_hub)
    acct = account(credits_hub, user_id)
    assert acct["balance"] == Decimal("0.05") - spent >= 0 and acct["held"] == 0

    grant(credits_hub, user_id, 1, reason="top-up by support")
    assert ask(credits_hub, key, max_tokens=10).parse().choices[0].message.content == "Echo: hi"
    refused_rows = [r for r in credits_hub.calls() if r["http_status"] == 402]
    assert len(refused_rows) == 1 and refused_rows[0]["credits"] == 0


def test_the_402_has_each_dialects_shape(credits_hub):
    _, key = new_user(credits_hub)  # no credits at all
    aigne = call(
        "POST",
        f"{credits_hub.url}/api/v2/chat",
        key,
        {
            "input": {
                "modelOptions": {"model": "openai/gpt-4o-mini"},
                "messages": [{"role": "user", "content": "hi"}],
            }
        },
    )
    assert aigne.status == 402, aigne.body
    assert aigne.body["error"]["type"] == "NOT_ENOUGH"
    assert aigne.body["error"]["link"] == "https://pay.example/buy"

    claude = anthropic.Anthropic(base_url=credits_hub.url, api_key=key, max_retries=0)
    with pytest.raises(anthropic.APIStatusError) as info:
        claude.messages.create(
            model="openai/gpt-4o-mini", max_tokens=10, messages=[{"role": "user", "content": "hi"}]
        )
    assert info.value.status_code == 402
    assert info.value.body["error"]["type"] == "billing_error"
    assert "https://pay.example/buy" in info.value.body["error"]["message"]

    status = ok(call("GET", f"{credits_hub.url}/api/v2/status", key))
    assert status["available"] is False and status["code"] == 402 and status["type"] == "NOT_ENOUGH"
    assert status["link"] == "https://pay.example/buy"
    info_body = ok(call("GET", f"{credits_hub.url}/api/user/info", key))
    assert info_body["enableCredit"] is True and info_body["creditBalance"]["balance"] == "0"
    assert info_body["paymentLink"] == "https://pay.example/buy"


def test_aigne_answers_carry_the_credits_and_the_prefix(credits_hub):
    ok(
        call(
            "PUT",
            f"{credits_hub.url}/api/admin/billing",
            credits_hub.admin_key,
            {"settings": {"credit_prefix": "$"}},
        )
    )
    user_id, key = new_user(credits_hub)
    grant(credits_hub, user_id, 5)
    answer = call(
        "POST",
        f"{credits_hub.url}/api/v2/chat",
        key,
        {
            "input": {
                "modelOptions": {"model": "openai/gpt-4o-mini"},
                "messages": [{"role": "user", "content": "hi"}],
            }
        },
    )
    usage = ok(answer)["usage"]
    assert Decimal(str(usage["aigneHubCredits"])) == usage["inputTokens"] * IN + usage["outputTokens"] * OUT
    assert usage["creditPrefix"] == "$"
    assert Decimal(answer.headers["x-aigne-hub-credits"]) == Decimal(str(usage["aigneHubCredits"]))
    settled(credits_hub)  # the hold is released after the answer, once the call's usage row is written
    status = ok(call("GET", f"{credits_hub.url}/api/v2/status", key))
    assert status["available"] is True


def test_a_model_without_a_rate_is_refused_in_credits_mode(credits_hub):
    user_id, key = new_user(credits_hub)
    grant(credits_hub, user_id, 5)
    with pytest.raises(openai.BadRequestError) as info:
        client(credits_hub, key).chat.completions.create(
            model="openai/gpt-4o", messages=[{"role": "user", "content": "hi"}]
        )
    assert info.value.body["code"] == "unsupported_model" and "gpt-4o" in info.value.body["message"]
    assert account(credits_hub, user_id)["balance"] == 5


def test_an_upstream_failure_costs_nothing_and_releases_the_hold(credits_hub, fake_openai_thread):
    user_id, key = new_user(credits_hub)
    grant(credits_hub, user_id, 5)
    fake_openai_thread.fail_next(500)
    with pytest.raises(openai.InternalServerError):
        ask(credits_hub, key)
    settled(credits_hub)
    acct = account(credits_hub, user_id)
    assert acct["balance"] == 5 and acct["held"] == 0 and acct["holds"] == 0
    assert [e["kind"] for e in ledger(credits_hub, user_id)] == ["grant"]


def test_switching_modes_takes_effect_at_once_and_free_mode_charges_nothing(credits_hub):
    _, key = new_user(credits_hub)  # no credits
    with pytest.raises(openai.APIStatusError):
        ask(credits_hub, key)
    use_mode(credits_hub, "free")
    raw = ask(credits_hub, key)
    assert "x-aigne-hub-credits" not in raw.headers
    info = ok(call("GET", f"{credits_hub.url}/api/user/info", key))
    assert info["enableCredit"] is False and info["creditBalance"] is None
    settled(credits_hub)
    assert credits_hub.calls()[-1]["status"] == "success"


def test_a_chosen_mode_whose_plugin_is_disabled_fails_closed(credits_hub):
    _, key = new_user(credits_hub)
    toggle = f"{credits_hub.url}/api/admin/plugins/billing_credits"
    ok(call("PUT", toggle, credits_hub.admin_key, {"enabled": False}))
    with pytest.raises(openai.APIStatusError) as info:
        ask(credits_hub, key)
    assert info.value.status_code == 503 and info.value.body["code"] == "billing_unavailable"
    ok(call("PUT", toggle, credits_hub.admin_key, {"enabled": True}))


def test_admin_billing_api_describes_and_validates(credits_hub):
    desc = ok(call("GET", f"{credits_hub.url}/api/admin/billing", credits_hub.admin_key))
    assert desc["active"] == "credits"
    assert {m["name"] for m in desc["modes"]} >= {"free", "credits"}
    bad = call("PUT", f"{credits_hub.url}/api/admin/billing", credits_hub.admin_key, {"mode": "gold"})
    assert bad.status == 400 and "gold" in bad.body["error"]["message"]
    bad = call(
        "PUT",
        f"{credits_hub.url}/api/admin/billing",
        credits_hub.admin_key,
        {"settings": {"credit_prefix": "£"}},
    )
    assert bad.status == 400
    _, member = new_user(credits_hub)
    assert call("GET", f"{credits_hub.url}/api/admin/billing", member).status == 403
