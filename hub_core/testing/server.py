"""A real hub on a real socket, in a background thread with its own event loop.

Tests (sync or async) talk to it over HTTP with real clients; `HubServer.run` executes a coroutine inside the
hub's loop with its database context active, for setup and for checking what the hub stored.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time
import urllib.request
from collections.abc import Awaitable, Callable, Iterable
from concurrent.futures import Future
from importlib.metadata import EntryPoint
from typing import Any, TypeVar

from hub_core.config import Settings
from hub_core.testing.registry import registered_plugins

T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class HubServer:
    """A hub on a real socket. It loads the installed plugins (or `entry_points`), plus `plugins` and those
    of the `register_plugin` blocks around its creation."""

    def __init__(
        self,
        settings: Settings,
        entry_points: Iterable[EntryPoint] | None = None,
        plugins: Iterable[tuple[str, object]] = (),
    ) -> None:
        self.port = free_port()
        self.settings = settings.with_(port=self.port, announce_admin_key=False)
        self.entry_points = entry_points
        self.plugins = (*registered_plugins(), *plugins)
        self.loop: asyncio.AbstractEventLoop | None = None
        self.app: Any = None
        self._thread: threading.Thread | None = None
        self._stop: asyncio.Event | None = None
        self._error: BaseException | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.settings.mount_path}"

    @property
    def hub(self) -> Any:
        return self.app.extensions["aigne_hub"]

    @property
    def admin_key(self) -> str:
        return str(self.hub.initial_admin_key)

    def start(self, timeout: float = 30.0) -> HubServer:
        self._thread = threading.Thread(target=self._main, name=f"hub-{self.port}", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._error is not None:
                raise RuntimeError("hub failed to start") from self._error
            try:
                with urllib.request.urlopen(f"{self.url}/-/health", timeout=1) as resp:
                    if resp.status == 200:
                        return self
            except OSError:
                time.sleep(0.05)
        raise TimeoutError("hub did not start")

    def _main(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as exc:
            self._error = exc

    async def _serve(self) -> None:
        from hypercorn.asyncio import serve
        from hypercorn.config import Config

        from hub_core.web import hypercorn_overrides
        from hub_core.web.app import create_app

        hypercorn_overrides.install()  # served as `aigne-hub serve` serves
        self.loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        self.app = create_app(self.settings, entry_points=self.entry_points, plugins=self.plugins)
        config = Config()
        config.bind = [f"127.0.0.1:{self.port}"]
        config.accesslog = None
        config.errorlog = logging.getLogger("hypercorn.error")  # through the hub's logger, as `serve` does
        config.graceful_timeout = 5
        await serve(self.app, config, shutdown_trigger=self._stop.wait)  # type: ignore[arg-type]

    def stop(self) -> None:
        if self.loop is not None and self._stop is not None and not self.loop.is_closed():
            self.loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(timeout=20)

    def run(self, factory: Callable[[], Awaitable[T]], timeout: float = 30.0) -> T:
        """Run ``factory()`` in the hub's loop with its database context, from any thread."""
        from hub_core import db

        async def wrapped() -> T:
            db.activate(self.hub.db)
            return await factory()

        assert self.loop is not None
        fut: Future[T] = asyncio.run_coroutine_threadsafe(wrapped(), self.loop)
        return fut.result(timeout)

    # --- conveniences for tests -------------------------------------------------------------------------

    def create_key(self, name: str = "test", role: str = "member") -> str:
        from hub_core.admin import users

        async def go() -> str:
            user = await users.create_user(name, role)
            return (await users.create_key(user, name, role))[1]

        return self.run(go)

    def add_provider(
        self, name: str, base_url: str | None = None, credential: Any = None, **kwargs: Any
    ) -> int:
        """Configure a provider (and a credential) through the services, then reload the hub."""
        from hub_core.admin import providers

        async def go() -> int:
            hub = self.hub
            row = await providers.add_provider(hub.settings, hub.host, name, base_url=base_url, **kwargs)
            if credential is not None:
                await providers.add_credential(hub.settings, hub.host, hub.keyring, row.id, credential)
            await hub.state.reload()
            return int(row.id)

        return self.run(go)

    def calls(self, **filters: Any) -> list[dict[str, Any]]:
        """Usage-log rows (after flushing the writer), oldest first."""
        from hub_core.db import models as m

        async def go() -> list[dict[str, Any]]:
            await self.hub.gateway.drain()
            await self.hub.writer.flush()
            return await m.ModelCall.filter(**filters).order_by("id").values()

        return self.run(go)

    def wait_for_calls(self, count: int, timeout: float = 10.0, **filters: Any) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        rows = self.calls(**filters)
        while len(rows) < count and time.monotonic() < deadline:
            time.sleep(0.05)
            rows = self.calls(**filters)
        return rows
