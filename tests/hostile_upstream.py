"""A fake OpenAI upstream that attacks the hub: the model name picks the attack, any other model gets the
ordinary fake's answer (so calls that are not attacked go to the same server).

``endless-line`` one SSE line that never ends, as fast as the socket takes it; ``huge-body`` a JSON answer
of `huge_bytes` bytes; ``drip`` one byte every `drip_interval` seconds, for ever; ``reset`` a first chunk
(or half a body), then a TCP reset; ``junk`` random bytes as an event stream; ``junk-events`` well-framed
events whose data is not JSON, then ``[DONE]``; ``html`` a 200 HTML page (a captive portal or a proxy's
error page); ``role-only`` a stream whose only chunk names the role, then a reset; ``endless-events`` a
well-formed stream that never ends, as fast as the socket takes it. Not an attack: ``bulk``
a well-formed stream of `bulk_bytes` bytes in 64 KB chunks, an honest upstream's heavy answer to compare with.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections import Counter
from typing import Any

from aiohttp import web

from hub_core.testing.fake_openai import FakeOpenAI, sse_chunk

ROLE_CHUNK = {
    "id": "chatcmpl-hostile",
    "object": "chat.completion.chunk",
    "created": 1,
    "model": "hostile",
    "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}],
}
ATTACKS = (
    "endless-line",
    "huge-body",
    "drip",
    "reset",
    "junk",
    "junk-events",
    "html",
    "role-only",
    "endless-events",
    "bulk",
)


class HostileOpenAI(FakeOpenAI):
    def __init__(
        self, huge_bytes: int = 200 << 20, drip_interval: float = 0.05, bulk_bytes: int = 1 << 20
    ) -> None:
        super().__init__()
        self.huge_bytes = huge_bytes
        self.bulk_bytes = bulk_bytes
        self.drip_interval = drip_interval
        #: bytes each attack managed to write before the hub stopped reading
        self.sent: Counter[str] = Counter()
        #: attacks whose connection the hub closed (the attack's writes failed)
        self.cut: Counter[str] = Counter()

    async def chat(self, request: web.Request) -> web.StreamResponse:
        body: dict[str, Any] = json.loads(await request.read())
        attack = str(body.get("model", ""))
        if attack not in ATTACKS:
            return await super().chat(request)
        stream = bool(body.get("stream"))
        if attack == "html":
            page = b"<html><body><h1>Proxy error</h1>\n\n<p>Try again later.</p></body></html>"
            return web.Response(body=page, content_type="text/html")
        content_type = "text/event-stream" if stream else "application/json"
        resp = web.StreamResponse(headers={"Content-Type": content_type})
        await resp.prepare(request)
        try:
            await self._attack(attack, stream, request, resp)
        except ConnectionError:
            self.cut[attack] += 1  # the hub hung up (or the attack reset the connection itself)
        except asyncio.CancelledError:
            self.cut[attack] += 1
            raise
        return resp

    async def _attack(
        self, attack: str, stream: bool, request: web.Request, resp: web.StreamResponse
    ) -> None:
        async def write(data: bytes) -> None:
            await resp.write(data)
            self.sent[attack] += len(data)

        if attack == "endless-line":
            await write(b"data: ")
            piece = b"x" * 65536
            while True:
                await write(piece)
        elif attack == "huge-body":
            await write(b'{"choices":[{"index":0,"message":{"role":"assistant","content":"')
            piece = b"x" * (1 << 20)
            for _ in range(self.huge_bytes >> 20):
                await write(piece)
            await write(b'"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":1}}')
        elif attack == "drip":
            while True:
                await write(b"d")
                await asyncio.sleep(self.drip_interval)
        elif attack in ("reset", "role-only"):
            if stream:
                if attack == "reset":
                    await write(sse_chunk(ROLE_CHUNK))
                    content = {**ROLE_CHUNK["choices"][0], "delta": {"content": "half an answer"}}
                    await write(sse_chunk({**ROLE_CHUNK, "choices": [content]}))
                else:
                    await write(sse_chunk(ROLE_CHUNK))
            else:
                await write(b'{"choices":[{"index":0,"message":')
            await asyncio.sleep(0.05)  # let the hub read it before the reset
            assert request.transport is not None
            request.transport.abort()  # RST, not a clean end
            raise ConnectionResetError
        elif attack == "junk":
            rng = random.Random(15)
            for _ in range(16):
                await write(bytes(rng.getrandbits(8) for _ in range(4096)) + b"\n\n")
        elif attack == "endless-events":
            content = {**ROLE_CHUNK["choices"][0], "delta": {"content": "more "}}
            event = sse_chunk({**ROLE_CHUNK, "choices": [content]}) * 64
            while True:
                await write(event)
        elif attack == "bulk":
            text = "x" * (64 << 10)
            for _ in range(self.bulk_bytes >> 16):
                content = {**ROLE_CHUNK["choices"][0], "delta": {"content": text}}
                await write(sse_chunk({**ROLE_CHUNK, "choices": [content]}))
            done = {**ROLE_CHUNK["choices"][0], "delta": {}, "finish_reason": "stop"}
            await write(sse_chunk({**ROLE_CHUNK, "choices": [done]}) + b"data: [DONE]\n\n")
        elif attack == "junk-events":
            for i in range(20):
                await write(f"data: this is not json {i}\n\n".encode())
            await write(b"data: [DONE]\n\n")
