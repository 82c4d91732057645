"""PostgreSQL made unavailable for real, for the outage tests: a database switched off and on as an operator
(or a failover) would, and a throwaway cluster of its own that a test can freeze like a hung server."""

from __future__ import annotations

import asyncio

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
