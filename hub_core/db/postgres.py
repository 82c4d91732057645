"""Tortoise's asyncpg backend with a time limit on every database call: a database that hangs (a network
partition, a stuck failover, a frozen server) gives 503 within `AIGNE_HUB_DB_TIMEOUT` instead of holding every
request while it hangs.

asyncpg already bounds connecting (``timeout``) and each query (``command_timeout``); what it leaves unbounded
is waiting for a pooled connection, which is where requests queue up behind connections stuck in a hung
query. Tested with tortoise-orm 1.1 and asyncpg 0.32 (`tests/test_db_hang.py` and
`tests/test_library_overrides.py` fail if the hooks move).

Each limit alone still let one request wait several times over: for a pooled connection, then for its query,
then for the pool to take the connection back (asyncpg waits for the query's cancellation and runs a reset
query on a database that does not answer), and a billed call does that for its key and again for its hold.
So the first wait that runs out of time marks the pool as not answering (`TimedPool.hung`, a circuit breaker):
from then on every database call fails at once (503) until one background probe at a time gets an answer,
and the connection whose query ran out of time is closed instead of being waited for. A healthy database
costs one attribute read per call for this.

It also gives transactions a context that cleans up after a database that went away mid-transaction
(`SafeTransactionContext`; `tests/test_db_outage.py`).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import time
from typing import Any

import asyncpg
import structlog
from tortoise.backends.asyncpg.client import AsyncpgDBClient, TransactionWrapper
from tortoise.backends.base.client import (
    PoolConnectionWrapper,
    TransactionContext,
    TransactionContextPooled,
)
from tortoise.connection import get_connections
from tortoise.exceptions import DBConnectionError, TransactionManagementError

log = structlog.get_logger("hub_core.db.postgres")

#: settings keys this backend reads from the connection's credentials (not passed on to asyncpg)
ACQUIRE_TIMEOUT = "hub_acquire_timeout"

#: the probe's first pause after a failed try, doubling up to the last: a refused connection costs little,
#: and the pause is what recovery waits for once the database is back
PROBE_PAUSE = 0.05
PROBE_PAUSE_MAX = 0.2


class DatabaseNotAnswering(DBConnectionError):
    """A database call refused without asking the database: a wait for it ran out of time a moment ago and
    no probe has had an answer since (a 503, as any unavailable database; `hub_core.db.errors`)."""


class TimedPool:
    """An asyncpg pool whose `acquire` gives up after `timeout` seconds unless the caller asks otherwise, and
    the circuit breaker of the module docstring: `hung` is True from a wait that ran out of time until the
    probe gets an answer."""

    def __init__(self, pool: asyncpg.Pool, timeout: float) -> None:
        self._pool = pool
        self._timeout = timeout
        self.release = pool.release  # once per query: a plain attribute, not a `__getattr__` miss
        self.hung = False
        self.hung_since = 0.0
        self._probe: asyncio.Task[None] | None = None

    def acquire(self, *, timeout: float | None = None) -> Any:
        return self._pool.acquire(timeout=self._timeout if timeout is None else timeout)

    def check(self) -> None:
        """Raise `DatabaseNotAnswering` while the breaker is open (callers on the hot path read `hung` first:
        an attribute read, no call, while the database is fine)."""
        if self.hung:
            raise DatabaseNotAnswering("the database is not answering (a wait for it timed out)")

    def ran_out_of_time(self) -> None:
        """A connect, query or pool wait timed out: fail every call at once until the probe gets an answer."""
        if self.hung:
            return
        self.hung, self.hung_since = True, time.monotonic()
        log.warning("database not answering; calls fail at once until it does", timeout=self._timeout)
        if self._probe is None or self._probe.done():
            # a context of its own: not the request's (its id in the log lines, its ORM context)
            self._probe = asyncio.get_running_loop().create_task(
                self._until_answering(), name="database-breaker-probe", context=contextvars.Context()
            )

    async def _until_answering(self) -> None:
        pause = PROBE_PAUSE
        while not await self._answers():
            await asyncio.sleep(pause)
            pause = min(2 * pause, PROBE_PAUSE_MAX)
        self.hung = False
        log.warning("database answering again", after_s=round(time.monotonic() - self.hung_since, 2))

    async def _answers(self) -> bool:
        try:
            connection = await self._pool.acquire(timeout=self._timeout)
        except Exception:
            return False
        try:
            await connection.fetchval("SELECT 1")  # within the pool's command_timeout
            return True
        except Exception:
            connection.terminate()  # of no more use, and releasing it would wait for the cancellation
            return False
        finally:
            with contextlib.suppress(Exception):  # the probe goes on whatever the release says
                await self._pool.release(connection)

    async def close(self) -> None:
        if self._probe is not None:
            self._probe.cancel()
        await self._pool.close()

    def terminate(self) -> None:
        if self._probe is not None:
            self._probe.cancel()
        self._pool.terminate()

    def __getattr__(self, name: str) -> Any:  # expire_connections ...
        return getattr(self._pool, name)


async def _release(pool: Any, connection: Any) -> None:
    """Give `connection` back; a reset that times out (the database stopped answering) is the caller's
    time-out too, and the connection is closed by asyncpg."""
    try:
        await pool.release(connection)
    except TimeoutError:
        if isinstance(pool, TimedPool):
            pool.ran_out_of_time()
        raise


class TimedConnectionWrapper(PoolConnectionWrapper[Any]):
    """Tortoise's wrapper around one query's pooled connection (same steps), with the breaker: no wait for a
    connection while the database is known not to answer, none for a query once it stopped answering during
    the wait, and a query that timed out closes its connection instead of waiting for its cancellation."""

    __slots__ = ()

    async def __aenter__(self) -> Any:
        await self.ensure_connection()
        pool: TimedPool = self.client._pool
        if pool.hung:
            pool.check()
        try:
            self.connection = connection = await pool.acquire()
        except TimeoutError:
            pool.ran_out_of_time()
            raise
        if pool.hung:  # it stopped answering while this call waited for a connection
            connection.terminate()  # (a release would send the database a reset query)
            await pool.release(connection)
            pool.check()
        return connection

    async def __aexit__(self, exc_type: Any, exc_val: Any, exc_tb: Any) -> None:
        pool: TimedPool = self.client._pool
        connection: Any = self.connection
        if exc_type is TimeoutError:  # the query's (command_timeout): the database stopped answering
            pool.ran_out_of_time()
        if pool.hung:  # no wait for its cancellation, nor for a reset query the database will not answer
            connection.terminate()
        try:  # (inline, not `_release`: one coroutine less per query)
            await pool.release(connection)
        except TimeoutError:  # the reset query: the database stopped answering
            pool.ran_out_of_time()
            raise


class TimedAsyncpgClient(AsyncpgDBClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.acquire_timeout = float(kwargs.pop(ACQUIRE_TIMEOUT, 5.0))
        super().__init__(*args, **kwargs)

    async def create_pool(self, **kwargs: Any) -> Any:
        return TimedPool(await super().create_pool(**kwargs), self.acquire_timeout)

    def acquire_connection(self) -> Any:
        return TimedConnectionWrapper(self, self._pool_init_lock)

    def _in_transaction(self) -> TransactionContext:
        return SafeTransactionContext(TransactionWrapper(self), self._pool_init_lock)


class SafeTransactionContext(TransactionContextPooled):
    """Tortoise's pooled transaction context (same steps), except that the connection always goes back to
    the pool and the task's connection variable is always reset. Tortoise resets the variable only after a
    successful release, and neither when BEGIN fails: when the database goes away mid-transaction (BEGIN
    times out, the release's reset fails on a dead connection) the task kept the dead transaction as its
    connection, and every later query of that task (the usage writer's loop, a deferred settlement) failed
    with "connection has been released back to the pool" until the hub restarted.

    With the breaker (`TimedPool`): no transaction starts while the database is known not to answer, and one
    whose statement timed out closes its connection (the server rolls it back) instead of waiting for a
    ROLLBACK and a reset the database will not answer either."""

    async def __aenter__(self) -> Any:
        await self.ensure_connection()
        pool: TimedPool = self.client._parent._pool
        if pool.hung:
            pool.check()
        try:
            self.client._connection = await pool.acquire()
        except TimeoutError:
            pool.ran_out_of_time()
            raise
        self.token = get_connections().set(self.connection_name, self.client)
        try:
            if pool.hung:  # it stopped answering while this transaction waited for a connection
                self.client._connection.terminate()
                pool.check()
            await self.client.begin()
        except BaseException as exc:
            if isinstance(exc, TimeoutError):
                self._timed_out()
            await self._release()
            raise
        return self.client

    async def __aexit__(self, exc_type: Any, exc_val: Any, exc_tb: Any) -> None:
        try:
            if exc_type is TimeoutError:  # a statement timed out: the database stopped answering
                self._timed_out()
            elif not self.client._finalized:
                if exc_type:
                    if exc_type is not TransactionManagementError:  # (it cannot be rolled back)
                        await self.client.rollback()
                else:
                    await self.client.commit()
        except TimeoutError:  # COMMIT or ROLLBACK timed out
            self._timed_out()
            raise
        finally:
            await self._release()

    def _timed_out(self) -> None:
        self.client._parent._pool.ran_out_of_time()
        self.client._connection.terminate()

    async def _release(self) -> None:
        try:
            if self.client._parent._pool:
                await _release(self.client._parent._pool, self.client._connection)
        finally:
            get_connections().reset(self.token)


client_class = TimedAsyncpgClient
