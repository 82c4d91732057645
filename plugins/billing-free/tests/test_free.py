"""The self-hosted mode: nobody pays, every call is metered and logged, optionally only rated models."""

from __future__ import annotations

import openai
import pytest

from hub_core.testing import call, new_user, ok, set_rate, settled, use_mode


def sdk(server, key: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{server.url}/v1", api_key=key, max_retries=0)


def test_free_is_the_default_mode_and_calls_need_no_credits_but_are_metered(hub):
    assert ok(call("GET", f"{hub.url}/api/admin/billing", hub.admin_key))["active"] == "free"
    user_id, key = new_user(hub)
    raw = sdk(hub, key).chat.completions.with_raw_response.create(
        model="openai/gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]
    )
    assert raw.parse().choices[0].message.content == "Echo: hi"
    assert "x-aigne-hub-credits" not in raw.headers
    settled(hub)
    row = hub.calls()[-1]
    assert row["user_id"] == user_id and row["status"] == "success" and row["output_tokens"] == 2
    assert row["credits"] == 0
    summary = ok(call("GET", f"{hub.url}/api/usage/summary", key))
    assert summary["calls"] == 1 and summary["outputTokens"] == 2
    info = ok(call("GET", f"{hub.url}/api/user/info", key))
    assert info["enableCredit"] is False and info["creditBalance"] is None


def test_only_rated_models_when_the_admin_says_so(hub):
    use_mode(hub, "free", only_rated_models=True)
    set_rate(hub, "openai", "gpt-4o-mini", "0.000001", "0.000002")
    _, key = new_user(hub)
    assert (
        sdk(hub, key)
        .chat.completions.create(model="openai/gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
        .choices
    )
    with pytest.raises(openai.BadRequestError) as info:
        sdk(hub, key).chat.completions.create(
            model="openai/gpt-4o", messages=[{"role": "user", "content": "hi"}]
        )
    assert info.value.body["code"] == "unsupported_model"
    use_mode(hub, "free", only_rated_models=False)
    assert (
        sdk(hub, key)
        .chat.completions.create(model="openai/gpt-4o", messages=[{"role": "user", "content": "hi"}])
        .choices
    )


def test_settings_are_validated(hub):
    bad = call(
        "PUT",
        f"{hub.url}/api/admin/billing",
        hub.admin_key,
        {"mode": "free", "settings": {"only_rated_models": "yes"}},
    )
    assert bad.status == 400 and "only_rated_models" in bad.body["error"]["message"]
    bad = call(
        "PUT", f"{hub.url}/api/admin/billing", hub.admin_key, {"mode": "free", "settings": {"colour": 1}}
    )
    assert bad.status == 400 and "colour" in bad.body["error"]["message"]
