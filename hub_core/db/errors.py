"""What a storage error means for the client: the database is unreachable (503, try again) or a value the
client sent does not fit a column (400), as opposed to a bug (500).

A database outage must never look like a bad key (401) or a crash (500): clients and operators act on 503.
"""

from __future__ import annotations

import errno
import socket
import sqlite3
from collections.abc import Iterator
from functools import cache

from tortoise.exceptions import DBConnectionError, ValidationError

from hub_core.errors import HubError

RETRY_AFTER_SECONDS = "5"


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


@cache
def _unavailable_types() -> tuple[type[BaseException], ...]:
    """Built on first use: asyncpg is imported only once a database error is being looked at."""
    types: list[type[BaseException]] = [DBConnectionError, ConnectionError]
    try:
        import asyncpg

        types += [
            asyncpg.PostgresConnectionError,  # connection lost or refused
            asyncpg.InterfaceError,  # the pool or connection is closed
            asyncpg.OperatorInterventionError,  # terminated by an admin, server shutting down or starting
            asyncpg.InsufficientResourcesError,  # too many connections, disk full
            asyncpg.InvalidCatalogNameError,  # the database is gone
            asyncpg.ObjectNotInPrerequisiteStateError,  # the database does not accept connections
        ]
    except ImportError:  # pragma: no cover - asyncpg ships with the hub
        pass
    return tuple(types)


@cache
def _bad_value_types() -> tuple[type[BaseException], ...]:
    types: list[type[BaseException]] = [ValidationError, OverflowError]
    try:
        import asyncpg

        types.append(asyncpg.DataError)  # 22xxx: numeric out of range, string too long, bad text for a type
    except ImportError:  # pragma: no cover
        pass
    return tuple(types)


_NET_ERRNOS = frozenset(
    {
        errno.ECONNREFUSED,
        errno.ECONNRESET,
        errno.ECONNABORTED,
        errno.EHOSTUNREACH,
        errno.ENETUNREACH,
        errno.ETIMEDOUT,
        errno.EPIPE,
    }
)
_SQLITE_UNAVAILABLE = ("database is locked", "unable to open database", "disk i/o error")


def is_unavailable(exc: BaseException) -> bool:
    """Whether `exc` (or what caused it) says the database cannot be reached right now."""
    for item in _chain(exc):
        if isinstance(item, _unavailable_types()):
            return True
        if isinstance(item, TimeoutError) and _raised_by_the_driver(item):
            return True  # a hung database: connect, query or pool wait ran out of time (hub_core.db.postgres)
        if isinstance(item, socket.gaierror) or (isinstance(item, OSError) and item.errno in _NET_ERRNOS):
            return True  # refused, reset, unreachable host: a socket error on the way to the database
        if isinstance(item, sqlite3.OperationalError) and str(item).lower().startswith(_SQLITE_UNAVAILABLE):
            return True
    return False


_DRIVER_MODULES = ("asyncpg.", "tortoise.")


def _raised_by_the_driver(exc: BaseException) -> bool:
    """Whether a timeout came through the database driver or the ORM, not from some other wait."""
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_globals.get("__name__", "").startswith(_DRIVER_MODULES):
            return True
        tb = tb.tb_next
    return False


def is_bad_value(exc: BaseException) -> bool:
    """Whether the database (or the ORM's field check) refused a value the client sent: too long, out of
    range for its column, or not of the column's type."""
    return any(isinstance(item, _bad_value_types()) for item in _chain(exc))


def unavailable() -> HubError:
    return HubError(
        503,
        "database_unavailable",
        "The hub's database is temporarily unavailable; try again shortly",
        type="api_error",
        headers={"Retry-After": RETRY_AFTER_SECONDS},
    )


def storage_error(exc: BaseException) -> HubError | None:
    """The `HubError` a client should see for a storage exception, or None when it is not one."""
    if is_unavailable(exc):
        return unavailable()
    if is_bad_value(exc):
        return HubError(400, "invalid_value", "A value in the request is too long or out of range")
    return None
