"""One upstream session serves every user and credential, so cookies a provider sets must not be kept:
Cloudflare in front of OpenAI and Anthropic sets ``__cf_bm`` on answers, and a kept jar would send one
caller's cookie along with every other caller's requests to that host."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from hub_core.testing.client import hub_client
from hub_core.testing.fake_openai import FakeOpenAI

CHAT = {"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}


class CookieSettingOpenAI(FakeOpenAI):
    async def chat(self, request: web.Request) -> Any:
        answer = await super().chat(request)
        answer.set_cookie("__cf_bm", "bot-score-of-the-first-caller", path="/")
        return answer


async def test_a_cookie_set_by_a_provider_is_not_sent_on_later_requests():
    async with CookieSettingOpenAI() as fake, hub_client() as hub:
        # by name: aiohttp's default jar would ignore cookies from an IP address
        base_url = fake.base_url.replace("127.0.0.1", "localhost")
        await hub.add_provider("openai", base_url=base_url, credential=fake.api_key)
        first, second = await hub.create_key("first"), await hub.create_key("second")
        for key in (first, second, second):
            resp = await hub.post("/v1/chat/completions", key=key, json=CHAT)
            assert resp.status_code == 200
    chats = [r for r in fake.requests if r["path"].endswith("/chat/completions")]
    assert len(chats) == 3
    assert all("Cookie" not in r["headers"] and "cookie" not in r["headers"] for r in chats)
