"""The usage log writer: call records are queued on the request path and written in batches off it.

A clean stop flushes everything. If the database refuses a batch, the rows stay queued and are retried;
past a bound they are spilled to ``usage-spill.jsonl`` in the data dir and re-imported on the next start,
so no accepted call goes unrecorded.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import Counter
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import structlog
from tortoise.expressions import F
from tortoise.transactions import in_transaction

from hub_core.analytics import apply_rollups, record_credit_units
from hub_core.config import Settings
from hub_core.db import models as m
from hub_core.types import CallRecord, Usage

log = structlog.get_logger("hub_core.usage_log")

MAX_QUEUED = 100_000


def record_to_row(record: CallRecord) -> m.ModelCall:
    usage = record.usage
    return m.ModelCall(
        request_id=record.request_id[:64],
        created_at=datetime.fromtimestamp(record.started_at, UTC),
        user_id=record.user_id,
        key_id=record.key_id,
        app_did=(record.app_did or None) and record.app_did[:200],
        endpoint=record.endpoint[:100],
        kind=record.kind,
        model=record.model[:200],
        provider=record.provider,
        provider_id=record.provider_id,
        upstream_model=record.upstream_model and record.upstream_model[:200],
        credential_id=record.credential_id,
        stream=record.stream,
        status=record.status,
        http_status=record.http_status,
        error=record.error[:2000] if record.error else None,
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        cached_tokens=usage.cached_input_tokens,
        cache_write_tokens=usage.cache_write_tokens,
        reasoning_tokens=usage.reasoning_tokens,
        images=usage.images,
        seconds=usage.seconds,
        duration_ms=round(record.duration_ms, 1),
        ttfb_ms=None if record.ttfb_ms is None else round(record.ttfb_ms, 1),
        metadata=record.extra,
        credits=record_credit_units(record),
    )


class UsageLogWriter:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._queue: list[CallRecord] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._flush_lock = asyncio.Lock()
        self._stopping = False
        self.written = 0

    @property
    def spill_path(self) -> Path:
        return self.settings.data_dir / "usage-spill.jsonl"

    def enqueue(self, record: CallRecord) -> None:
        self._queue.append(record)
        if len(self._queue) >= self.settings.usage_batch_size:
            self._wake.set()

    @property
    def pending(self) -> int:
        return len(self._queue)

    async def start(self) -> None:
        await self._import_spill()
        self._task = asyncio.create_task(self._run(), name="usage-log-writer")

    async def _run(self) -> None:
        while not self._stopping:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.settings.usage_flush_interval)
            self._wake.clear()
            await self.flush()

    async def flush(self) -> None:
        async with self._flush_lock:
            while self._queue:
                batch = self._queue[: self.settings.usage_batch_size]
                try:
                    await self._write(batch)
                except Exception as exc:
                    log.error("usage log write failed; will retry", rows=len(batch), error=str(exc))
                    if len(self._queue) > MAX_QUEUED:
                        self._spill()
                    return
                del self._queue[: len(batch)]
                self.written += len(batch)

    async def _write(self, batch: list[CallRecord]) -> None:
        async with in_transaction():  # the raw log and its rollups change together or not at all
            await m.ModelCall.bulk_create([record_to_row(r) for r in batch])
            await apply_rollups(batch)
        await _touch_counters(batch)

    async def stop(self) -> None:
        if self._task is not None:
            # let the loop finish its current write instead of cancelling it: a cancel that lands while a
            # transaction is being opened leaks Tortoise's SQLite transaction lock and the final flush hangs
            self._stopping = True
            self._wake.set()
            await self._task
            self._task = None
        for _ in range(3):
            await self.flush()
            if not self._queue:
                return
            await asyncio.sleep(0.2)
        self._spill()

    def _spill(self) -> None:
        if not self._queue:
            return
        self.spill_path.parent.mkdir(parents=True, exist_ok=True)
        with self.spill_path.open("a") as fh:
            for record in self._queue:
                fh.write(json.dumps(asdict(record)) + "\n")
        log.warning("usage records spilled to disk", rows=len(self._queue), path=str(self.spill_path))
        self._queue.clear()

    async def _import_spill(self) -> None:
        if not self.spill_path.exists():
            return
        records = []
        for line in self.spill_path.read_text().splitlines():
            data: dict[str, Any] = json.loads(line)
            data["usage"] = Usage(**data["usage"])
            records.append(CallRecord(**data))
        await self._write(records)
        self.spill_path.unlink()
        log.info("re-imported spilled usage records", rows=len(records))


async def _touch_counters(batch: list[CallRecord]) -> None:
    """Credential usage counts and key last-use times, one UPDATE per credential/key per batch."""
    now = datetime.now(UTC)
    uses = Counter(r.credential_id for r in batch if r.credential_id is not None)
    for cred_id, n in uses.items():
        await m.Credential.filter(id=cred_id).update(usage_count=F("usage_count") + n, last_used_at=now)
    keys = {r.key_id for r in batch if r.key_id is not None}
    if keys:
        await m.AccessKey.filter(id__in=list(keys)).update(last_used_at=now)
