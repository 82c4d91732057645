"""Bases for fake vendor upstreams: an aiohttp app on an ephemeral port, in the test's loop or a thread.

`FakeUpstream` owns the server's life (start and stop, async or in a thread of its own) and the queue of
one-shot failures (`fail_next`); every fake builds on it. `FakeServer` adds request recording (`Recorded`) for
fakes that follow the scenario contract of `hub_core.testing.conformance`: the reply text, tool calls and
failure modes a fake produces for a given model name (`reply_text`, `FAIL_401` ...). Subclasses add routes in
`routes()` and speak one vendor's wire format.
"""

from __future__ import annotations

import asyncio
import base64
import json
import threading
from dataclasses import dataclass, field
from typing import Any, Generic, Self, TypeVar

from aiohttp import web

PNG_1PX = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)
PNG_1PX_DATA_URL = "data:image/png;base64," + base64.b64encode(PNG_1PX).decode()

#: model names (or, for vendors without a model field, prompts) that make a conforming fake misbehave
FAIL_401 = "fail-401"
FAIL_429 = "fail-429"
FAIL_500 = "fail-500"
MALFORMED = "malformed"
STREAM_ERROR = "stream-error"
USAGE_DETAILS = "usage-details"
RETRY_AFTER_SECONDS = 7


@dataclass
class Failure:
    """A one-shot failure queued with `FakeUpstream.fail_next`."""

    status: int
    message: str = "fake failure"
    headers: dict[str, str] = field(default_factory=dict)
    #: the vendor's error type, for fakes whose error bodies carry one (None: derived from the status)
    etype: str | None = None


@dataclass
class Recorded:
    """One request as the fake saw it."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    json: Any = None


def reply_text(last_user_text: str, images: list[str], system: str | None, tool_result: str | None) -> str:
    """The text a conforming fake answers with (the conformance suite asserts on it).

    ``Echo: <last user text>``, then `` [image:<mime>]`` per image in that message, then ``(system: <text>)``
    when there was a system prompt; a conversation that ends with a tool result is answered with
    ``Tool result: <text>``.
    """
    if tool_result is not None:
        return f"Tool result: {tool_result}"
    text = f"Echo: {last_user_text}"
    for mime in images:
        text += f" [image:{mime}]"
    if system:
        text += f" (system: {system})"
    return text


def words_of(text: str) -> list[str]:
    """Split a reply into stream pieces that concatenate back to the reply."""
    parts = text.split(" ")
    return [p if i == 0 else " " + p for i, p in enumerate(parts)]


class FakeUpstream:
    """``with FakeX().in_thread() as fake: fake.base_url`` (sync tests) or ``async with FakeX() as fake``."""

    #: path prefix of `base_url` (``/v1`` for most vendors)
    base_path = ""
    #: the largest request body the fake accepts (aiohttp's ``client_max_size``)
    max_body = 64 << 20
    #: the key the fake expects (None: it accepts any); subclasses set it in ``__init__``
    api_key: str | None = None

    def __init__(self) -> None:
        self.failures: list[Failure] = []
        #: streams the client abandoned mid-answer
        self.disconnects = 0
        self.port = 0
        self._runner: web.AppRunner | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    def routes(self, app: web.Application) -> None:
        raise NotImplementedError

    @property
    def credential(self) -> Any:
        """What to store as the hub's credential for this fake (`hub_core.testing.conformance` reads it): its
        API key unless a subclass needs more (a key pair, a region ...)."""
        return self.api_key

    # --- lifecycle -----------------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.base_path}"

    async def start(self, port: int = 0) -> Self:
        app = web.Application(client_max_size=self.max_body)
        self.routes(app)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        self.port = self._runner.addresses[0][1]  # the port the OS picked (public: BaseRunner.addresses)
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def start_thread(self) -> Self:
        """Serve from a thread with its own loop, for sync tests (the hub runs in yet another thread)."""
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._thread = threading.Thread(target=loop.run_forever, name=f"{type(self).__name__}", daemon=True)
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self.start(), loop).result(10)
        return self

    def stop_thread(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None:
            return
        asyncio.run_coroutine_threadsafe(self.stop(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        if thread is not None:
            thread.join(5)
        if thread is None or not thread.is_alive():
            loop.close()  # one still winding down on a busy machine is left to its daemon thread
        self._loop, self._thread = None, None

    def in_thread(self) -> _ThreadContext[Self]:
        return _ThreadContext(self)

    # --- one-shot failures ---------------------------------------------------------------------------------

    def fail_next(
        self,
        status: int,
        message: str = "fake failure",
        headers: dict[str, str] | None = None,
        times: int = 1,
    ) -> None:
        self.failures.extend(Failure(status, message, headers or {}) for _ in range(times))

    def pop_failure(self) -> Failure | None:
        return self.failures.pop(0) if self.failures else None


class FakeServer(FakeUpstream):
    """A fake that records every request as a `Recorded` (``fake.requests``, ``fake.last``)."""

    def __init__(self) -> None:
        super().__init__()
        self.requests: list[Recorded] = []

    async def record(self, request: web.Request) -> Recorded:
        raw = await request.read()
        rec = Recorded(request.method, request.path, dict(request.query), dict(request.headers), raw)
        if raw and request.content_type == "application/json":
            try:
                rec.json = json.loads(raw)
            except ValueError:
                rec.json = None
        self.requests.append(rec)
        return rec

    @property
    def last(self) -> Recorded:
        return self.requests[-1]


F = TypeVar("F", bound=FakeUpstream)


class _ThreadContext(Generic[F]):
    def __init__(self, fake: F) -> None:
        self.fake = fake

    def __enter__(self) -> F:
        return self.fake.start_thread()

    def __exit__(self, *exc: object) -> None:
        self.fake.stop_thread()
