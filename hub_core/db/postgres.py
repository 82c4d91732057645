"""Tortoise's asyncpg backend with a time limit on every database call: a database that hangs (a network
partition, a stuck failover) gives 503 within seconds instead of holding every request while it hangs.

asyncpg already bounds connecting (``timeout``) and each query (``command_timeout``); what it leaves unbounded
is waiting for a pooled connection, which is where requests queue up behind connections stuck in a hung
query. Tested with tortoise-orm 1.1 and asyncpg 0.32 (`tests/test_db_hang.py` fails if the hook moves).

It also gives transactions a context that cleans up after a database that went away mid-transaction
(`SafeTransactionContext`; `tests/test_db_outage.py`).
"""

from __future__ import annotations

from typing import Any

import asyncpg
from tortoise.backends.asyncpg.client import AsyncpgDBClient, TransactionWrapper
from tortoise.backends.base.client import TransactionContext, TransactionContextPooled
from tortoise.connection import get_connections
from tortoise.exceptions import TransactionManagementError

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

    def _in_transaction(self) -> TransactionContext:
        return SafeTransactionContext(TransactionWrapper(self), self._pool_init_lock)


class SafeTransactionContext(TransactionContextPooled):
    """Tortoise's pooled transaction context (same steps), except that the connection always goes back to
    the pool and the task's connection variable is always reset. Tortoise resets the variable only after a
    successful release, and neither when BEGIN fails: when the database goes away mid-transaction (BEGIN
    times out, the release's reset fails on a dead connection) the task kept the dead transaction as its
    connection, and every later query of that task (the usage writer's loop, a deferred settlement) failed
    with "connection has been released back to the pool" until the hub restarted."""

    async def __aenter__(self) -> Any:
        await self.ensure_connection()
        self.client._connection = await self.client._parent._pool.acquire()
        self.token = get_connections().set(self.connection_name, self.client)
        try:
            await self.client.begin()
        except BaseException:
            await self._release()
            raise
        return self.client

    async def __aexit__(self, exc_type: Any, exc_val: Any, exc_tb: Any) -> None:
        try:
            if not self.client._finalized:
                if exc_type:
                    if exc_type is not TransactionManagementError:  # (it cannot be rolled back)
                        await self.client.rollback()
                else:
                    await self.client.commit()
        finally:
            await self._release()

    async def _release(self) -> None:
        try:
            if self.client._parent._pool:
                await self.client._parent._pool.release(self.client._connection)
        finally:
            get_connections().reset(self.token)


client_class = TimedAsyncpgClient
