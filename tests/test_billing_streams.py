"""The policy for aborted and failed streams (docs/billing.md): a call is charged for what it produced, and a
call that produced nothing costs nothing; the hold is released either way, also when the client is gone."""

from __future__ import annotations

from decimal import Decimal

import openai
import pytest
from hub_billing_credits.testing import account, grant, ledger

from hub_core.billing.pricing import fair_prompt_tokens
from hub_core.testing.billing import new_user, set_rate, settled, use_mode
from hub_core.testing.fake_openai import FakeOpenAI

IN, OUT = Decimal("0.001"), Decimal("0.002")
WORDS = " ".join(f"w{i}" for i in range(30))


@pytest.fixture
def slow_fake():
    """A fake OpenAI that waits 0.2 s between stream chunks, in its own thread."""
    with FakeOpenAI(chunk_delay=0.2).in_thread() as fake:
        yield fake


@pytest.fixture
def hub_user(hub_server_factory, slow_fake):
    server = hub_server_factory()
    server.add_provider("openai", base_url=slow_fake.base_url, credential=slow_fake.api_key)
    use_mode(server, "credits")
    for model in ("gpt-4o-mini", "stream-error", "slow-3"):
        set_rate(server, "openai", model, IN, OUT)
    user_id, key = new_user(server)
    grant(server, user_id, 10)
    return server, user_id, key


def payload(model: str = "gpt-4o-mini") -> dict:
    return {"model": f"openai/{model}", "stream": True, "messages": [{"role": "user", "content": WORDS}]}


def only_call(server) -> dict:
    rows = server.wait_for_calls(1)
    assert len(rows) == 1
    return rows[0]


def assert_charged_for(server, user_id: int, row: dict, expected: Decimal) -> None:
    settled(server)
    acct = account(server, user_id)
    assert acct["balance"] == 10 - expected and acct["held"] == acct["holds"] == 0
    assert acct["balance"] == acct["ledger"] == acct["grants"]
    assert Decimal(row["credits"]) / 10**10 == expected
    charges = [e for e in ledger(server, user_id) if e["kind"] == "charge"]
    assert sum(-e["amount"] for e in charges) == row["credits"]


def sdk(server, key: str, timeout: float = 30) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{server.url}/v1", api_key=key, max_retries=0, timeout=timeout)


def test_an_aborted_stream_is_charged_for_the_tokens_produced_so_far(hub_user):
    server, user_id, key = hub_user
    stream = sdk(server, key).chat.completions.create(**payload())
    received = 0
    for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            received += 1
            if received == 4:
                break
    stream.close()  # the client goes away mid-answer
    row = only_call(server)
    assert row["status"] == "aborted"
    produced = row["output_tokens"]
    assert 4 <= produced < 31, (
        produced
    )  # what the upstream sent before the hub closed it, not the full answer
    assert row["metadata"].get("usage_estimated") and row["metadata"].get("prompt_estimated")
    prompt = fair_prompt_tokens(payload(), "chat")
    assert row["input_tokens"] == 0  # the log keeps what the provider reported; the estimate is only billed
    assert_charged_for(server, user_id, row, prompt * IN + produced * OUT)


def test_a_stream_that_produced_nothing_costs_nothing(hub_user):
    server, user_id, key = hub_user
    with pytest.raises(openai.APITimeoutError):
        sdk(server, key, timeout=1).chat.completions.create(**payload("slow-3"))
    row = only_call(server)
    assert row["status"] in ("aborted", "error") and row["output_tokens"] == 0
    assert_charged_for(server, user_id, row, Decimal(0))


def test_a_stream_that_fails_midway_is_charged_for_what_it_produced(hub_user):
    server, user_id, key = hub_user
    with pytest.raises(openai.APIError):
        for _ in sdk(server, key).chat.completions.create(**payload("stream-error")):
            pass
    row = only_call(server)
    assert row["status"] == "error" and row["output_tokens"] > 0
    prompt = fair_prompt_tokens(payload("stream-error"), "chat")
    assert_charged_for(server, user_id, row, prompt * IN + row["output_tokens"] * OUT)
