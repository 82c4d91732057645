"""Observers that always raise: the hub must start, serve, log and stop as if they were not there (fail open),
and every other observer must still run."""

from __future__ import annotations

from hub_core import CallRecord, hookimpl
from hub_core.config import Settings


@hookimpl
def on_call_finished(record: CallRecord) -> None:
    raise RuntimeError(f"hubtest observer exploded on {record.request_id}")


@hookimpl
async def on_startup(settings: Settings) -> None:
    raise RuntimeError("hubtest startup observer exploded")


@hookimpl
def on_shutdown(settings: Settings) -> None:
    raise RuntimeError("hubtest shutdown observer exploded")
