"""Tortoise's asyncpg backend with a time limit on every database call: a database that hangs (a network
partition, a stuck failover) gives 503 within seconds instead of holding every request while it hangs.

asyncpg already bounds connecting (``timeout``) and each query (``command_timeout``); what it leaves unbounded
is waiting for a pooled connection, which is where requests queue up behind connections stuck in a hung
query. Tested with tortoise-orm 1.1 and asyncpg 0.32 (`tests/test_db_hang.py` fails if the hook moves).
"""

from __future__ import annotations

from typing import Any

import asyncpg
from tortoise.backends.asyncpg.client import AsyncpgDBClient

#: settings keys this backend reads from the connection's credentials (not passed on to asyncpg)
ACQUIRE_TIMEOUT = "hub_acquire_timeout"


class TimedPool:
    """An asyncpg pool whose `acquire` gives up after `timeout` seconds unless the caller asks otherwise."""

    def __init__(self, pool: asyncpg.Pool, timeout: float) -> None:
        self._pool = pool
        self._timeout = timeout

    def acquire(self, *, timeout: float | None = None) -> Any:
        return self._pool.acquire(timeout=self._timeout if timeout is None else timeout)

    def __getattr__(self, name: str) -> Any:  # release, close, terminate, expire_connections ...
        return getattr(self._pool, name)


class TimedAsyncpgClient(AsyncpgDBClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.acquire_timeout = float(kwargs.pop(ACQUIRE_TIMEOUT, 5.0))
        super().__init__(*args, **kwargs)

    async def create_pool(self, **kwargs: Any) -> Any:
        return TimedPool(await super().create_pool(**kwargs), self.acquire_timeout)


client_class = TimedAsyncpgClient
