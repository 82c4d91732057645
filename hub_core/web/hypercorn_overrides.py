"""The override of a private Hypercorn internal, for speed (measured in docs/performance.md).

pyproject pins Hypercorn to the versions this was tested with; tests/test_library_overrides.py fails when
something relied on here changes. `install` is called by every way the hub serves (`aigne-hub serve`, its
workers, the test servers), before the first connection.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable
from typing import Any

from hypercorn.asyncio import tcp_server
from hypercorn.asyncio.worker_context import WorkerContext


class IdleTimer:
    """The keep-alive idle timeout of one connection, as one event-loop timer.

    Hypercorn's `TCPServer` keeps it in an `AsyncioSingleTask`: between two requests on a keep-alive
    connection it cancels and awaits a task, then starts a new one that runs ``asyncio.wait_for`` (a second
    task, and a timer) on the worker's "terminated" event. That is four tasks started or cancelled per
    request, about 167,000 instructions per call. What it does stays: an idle connection is closed after
    ``keep_alive_timeout``, and at once when the worker terminates (one watcher per worker, not per
    connection), with the same `TCPServer._initiate_server_close`.

    It also frees a connection the client closed at once: Hypercorn's connection waits for the tasks of its
    task group, the idle-timeout task included, so it held the socket and the last request's objects for the
    whole ``keep_alive_timeout`` (75 s) after a client hung up (docs/security.md, "Memory under load";
    tests/test_connection_memory.py).
    """

    __slots__ = ("_close", "_handle", "_idle")

    def __init__(self) -> None:
        self._handle: asyncio.TimerHandle | None = None
        self._close: Callable[[], None] | None = None
        self._idle: set[IdleTimer] | None = None

    async def restart(self, task_group: Any, action: Callable[[], Any]) -> None:
        """Start (again) the countdown; `action` is the server's ``_idle_timeout``, whose server is closed."""
        self._cancel()
        server = action.__self__  # type: ignore[attr-defined]
        context: WorkerContext = server.context

        def close() -> None:
            self._cancel()
            task_group._task_group.create_task(server._initiate_server_close())

        if context.terminated.is_set():
            close()
            return
        self._close = close
        self._handle = asyncio.get_running_loop().call_later(server.config.keep_alive_timeout, close)
        self._idle = _idle_connections(context)
        self._idle.add(self)

    async def stop(self) -> None:
        self._cancel()

    def fire(self) -> None:
        if self._close is not None:
            self._close()

    def _cancel(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        self._close = None
        if self._idle is not None:
            self._idle.discard(self)
            self._idle = None


#: per worker, the connections that are idle now, and the task that closes them when the worker terminates
_IDLE: weakref.WeakKeyDictionary[WorkerContext, set[IdleTimer]] = weakref.WeakKeyDictionary()
_WATCHERS: set[asyncio.Task[None]] = set()


def _idle_connections(context: WorkerContext) -> set[IdleTimer]:
    idle = _IDLE.get(context)
    if idle is None:
        idle = _IDLE[context] = set()
        watcher = asyncio.get_running_loop().create_task(_close_on_termination(context, idle))
        _WATCHERS.add(watcher)
        watcher.add_done_callback(_WATCHERS.discard)
    return idle


async def _close_on_termination(context: WorkerContext, idle: set[IdleTimer]) -> None:
    await context.terminated.wait()
    for timer in list(idle):
        timer.fire()


def install() -> None:
    """Make Hypercorn's `TCPServer` keep its idle timeout in an `IdleTimer` (it looks the class up by this
    module-level name when a connection is made)."""
    tcp_server.AsyncioSingleTask = IdleTimer  # type: ignore[attr-defined,misc]
