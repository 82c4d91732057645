"""PostgreSQL made unavailable for real, for the outage tests: a database switched off and on as an operator
(or a failover) would, and a throwaway cluster of its own that a test can freeze like a hung server."""

from __future__ import annotations

import asyncio
import threading

import asyncpg

from hub_core.testing.pytest_plugin import PG_ADMIN_URL


class Database:
    """Switch one PostgreSQL database off and on: it stops accepting connections and every open connection
    is terminated, as in a failover or a restart of the server."""

    def __init__(self, url: str) -> None:
        self.name = url.rsplit("/", 1)[1]

    async def _admin(self, *statements: str) -> None:
        conn = await asyncpg.connect(PG_ADMIN_URL, timeout=5)
        try:
            for sql in statements:
                await conn.execute(sql)
        finally:
            await conn.close()

    def down(self) -> None:
        asyncio.run(
            self._admin(
                f'ALTER DATABASE "{self.name}" ALLOW_CONNECTIONS false',
                f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{self.name}'",
            )
        )

    def up(self) -> None:
        asyncio.run(self._admin(f'ALTER DATABASE "{self.name}" ALLOW_CONNECTIONS true'))


class FreezableProxy:
    """A TCP proxy to PostgreSQL, in its own thread, that can stop forwarding: connections stay open and new
    ones are accepted, but no byte goes through, as in a network partition or a server stuck in failover
    (as opposed to one that refuses connections, which fails fast by itself)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 5432) -> None:
        self.target = (host, port)
        self.loop = asyncio.new_event_loop()
        self.port = 0
        self._flowing: asyncio.Event | None = None
        started = threading.Event()
        self._thread = threading.Thread(target=self._main, args=(started,), daemon=True)
        self._thread.start()
        started.wait(10)

    def url(self, database_url: str) -> str:
        """`database_url` with this proxy as its host and port."""
        scheme, rest = database_url.split("://", 1)
        userinfo, hostpath = rest.rsplit("@", 1) if "@" in rest else ("", rest)
        path = hostpath.split("/", 1)[1]
        return f"{scheme}://{userinfo + '@' if userinfo else ''}127.0.0.1:{self.port}/{path}"

    def freeze(self) -> None:
        self.loop.call_soon_threadsafe(self._flowing.clear)  # type: ignore[union-attr]

    def thaw(self) -> None:
        self.loop.call_soon_threadsafe(self._flowing.set)  # type: ignore[union-attr]

    def close(self) -> None:
        asyncio.run_coroutine_threadsafe(self._stop(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5)

    async def _stop(self) -> None:
        self._server.close()
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _main(self, started: threading.Event) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self._start())
        started.set()
        self.loop.run_forever()

    async def _start(self) -> None:
        self._flowing = asyncio.Event()
        self._flowing.set()
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        assert self._flowing is not None
        await self._flowing.wait()
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        await asyncio.gather(self._pump(reader, up_writer), self._pump(up_reader, writer))

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        assert self._flowing is not None
        try:
            while data := await reader.read(65536):
                await self._flowing.wait()
                writer.write(data)
                await writer.drain()
        except OSError:
            pass
        finally:
            writer.close()
