"""The usage log writer: call records are queued on the request path and written in batches off it.

A clean stop flushes everything. If the database refuses a batch, the rows stay queued and are retried;
past a bound they are spilled to ``usage-spill.jsonl`` in the data dir and re-imported on the next start,
so no accepted call goes unrecorded. On PostgreSQL a batch whose write failed after its transaction began
is written again only once the database says that transaction did not commit (`txid_status`), so no call
is recorded twice either.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import structlog
from tortoise.expressions import F
from tortoise.transactions import in_transaction

from hub_core.config import Settings
from hub_core.db import models as m
from hub_core.db import tortoise_overrides
from hub_core.infra.files import open_private, private_dir
from hub_core.types import CallRecord, Usage
from hub_core.usage.analytics import apply_rollups, record_credit_units

log = structlog.get_logger("hub_core.usage.writer")

MAX_QUEUED = 100_000


#: the columns of ``model_calls`` the writer fills (all but ``id``), in the order `call_values` gives them;
#: tests/test_usage_log.py checks this against the model, so a new column cannot be forgotten here
CALL_COLUMNS = (
    "request_id",
    "created_at",
    "user_id",
    "key_id",
    "app_did",
    "endpoint",
    "kind",
    "model",
    "provider",
    "provider_id",
    "upstream_model",
    "credential_id",
    "stream",
    "status",
    "http_status",
    "error",
    "input_tokens",
    "output_tokens",
    "cached_tokens",
    "cache_write_tokens",
    "reasoning_tokens",
    "images",
    "seconds",
    "duration_ms",
    "ttfb_ms",
    "metadata",
    "credits",
)


def _storable(value: str | None) -> str | None:
    """A client-supplied string as every database stores it: no NUL (PostgreSQL refuses it) and no lone
    surrogate (not encodable as UTF-8)."""
    if not value:
        return value
    if not value.isascii():
        value = value.encode("utf-8", "replace").decode("utf-8")
    return value.replace("\x00", "") if "\x00" in value else value


def clean_record(record: CallRecord) -> None:
    """Make the strings a client chose (model, app header, errors quoting them) storable, in place, before
    the row and its rollups are written: one bad row must never block a batch."""
    record.model = _storable(record.model) or ""
    record.upstream_model = _storable(record.upstream_model)
    record.app_did = _storable(record.app_did)
    record.error = _storable(record.error)


def call_values(
    record: CallRecord, metadata: Callable[[Any, Any], Any], *, sqlite: bool = False
) -> tuple[Any, ...]:
    """One ``model_calls`` row as the parameters of `insert_calls_sql`: the values Tortoise would store
    (`metadata` is the JSON field's own encoder), without building a model object per row.

    For SQLite the time and the flag are given as the text and the integer Tortoise's adapters turn them
    into: the sqlite3 module looks up an adapter for every value that is not an int, float or str, and that
    lookup cost more than binding the rest of the row."""
    usage = record.usage
    created_at: Any = datetime.fromtimestamp(record.started_at, UTC)
    return (
        record.request_id[:64],
        created_at.isoformat(" ") if sqlite else created_at,
        record.user_id,
        record.key_id,
        (record.app_did or None) and record.app_did[:200],
        record.endpoint[:100],
        record.kind,
        record.model[:200],
        record.provider,
        record.provider_id,
        record.upstream_model and record.upstream_model[:200],
        record.credential_id,
        (1 if record.stream else 0) if sqlite else bool(record.stream),
        record.status,
        int(record.http_status),
        record.error[:2000] if record.error else None,
        int(usage.input_tokens),
        int(usage.output_tokens),
        int(usage.cached_input_tokens),
        int(usage.cache_write_tokens),
        int(usage.reasoning_tokens),
        int(usage.images),
        float(usage.seconds),
        float(round(record.duration_ms, 1)),
        None if record.ttfb_ms is None else float(round(record.ttfb_ms, 1)),
        metadata(record.extra, m.ModelCall) if record.extra else "{}",  # what the JSON field stores for {}
        record_credit_units(record),
    )


def insert_calls_sql(postgres: bool) -> str:
    """One parameterised INSERT of a ``model_calls`` row, run with ``executemany`` for a whole batch."""
    marks = (f"${i}" for i in range(1, len(CALL_COLUMNS) + 1)) if postgres else ("?" for _ in CALL_COLUMNS)
    columns = ", ".join(f'"{c}"' for c in CALL_COLUMNS)
    return f'INSERT INTO "model_calls" ({columns}) VALUES ({", ".join(marks)})'


_INSERT_CALLS = {postgres: insert_calls_sql(postgres) for postgres in (False, True)}


class UsageLogWriter:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._queue: list[CallRecord] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._flush_lock = asyncio.Lock()
        self._stopping = False
        self.written = 0
        # records someone waits to see written (a settlement: the row goes in before the charge), by id()
        self._watched: dict[int, asyncio.Future[bool]] = {}
        # PostgreSQL: the transaction id of the batch being written, and of the first `n` queued records
        # when their write failed in a way that may have committed anyway (see `_committed_anyway`)
        self._txid: int | None = None
        self._unsure: tuple[int, int] | None = None

    @property
    def spill_path(self) -> Path:
        return self.settings.data_dir / "usage-spill.jsonl"

    def watch(self, record: CallRecord) -> asyncio.Future[bool]:
        """A future that resolves once `record`, queued next, has left the queue: written, set aside as
        refused, or spilled to disk. Cancel it to stop watching."""
        key = id(record)
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        future.add_done_callback(lambda _f: self._watched.pop(key, None))
        self._watched[key] = future
        return future

    def _done(self, records: list[CallRecord]) -> None:
        if self._watched:
            for record in records:
                future = self._watched.pop(id(record), None)
                if future is not None and not future.done():
                    future.set_result(True)

    def enqueue(self, record: CallRecord) -> None:
        self._queue.append(record)
        if len(self._queue) >= self.settings.usage_batch_size or (
            self._watched and id(record) in self._watched
        ):
            # a full batch, or a row a charge (and the release of its hold) waits for: write now; under load
            # the rows that arrive during one write make the next batch
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
        """Write what is queued now. Calls that finish meanwhile wait for the next interval (or a full
        batch): draining until empty under load made a batch of whatever arrived during the last write,
        dozens of small transactions a second instead of one per interval."""
        async with self._flush_lock:
            left = len(self._queue)
            while left > 0 and self._queue:
                if self._unsure is not None:  # the first records' last write failed, maybe after its commit
                    batch = self._queue[: self._unsure[1]]
                    committed = await self._committed_anyway()
                    if committed is None:
                        return  # the database cannot tell yet: ask again at the next flush
                    if not committed and not await self._write_batch(batch):
                        return
                else:
                    batch = self._queue[: min(left, self.settings.usage_batch_size)]
                    if not await self._write_batch(batch):
                        return
                left -= len(batch)
                del self._queue[: len(batch)]
                self.written += len(batch)
                self._done(batch)

    async def _write_batch(self, batch: list[CallRecord]) -> bool:
        """Write `batch`; False when it must wait for the database (it stays queued)."""
        try:
            await self._write(batch)
            return True
        except Exception as exc:
            error = exc
        if self._txid is not None:  # it failed once its transaction had begun: it may have committed
            self._unsure = (self._txid, len(batch))
            committed = await self._committed_anyway()
            if committed:
                return True
            if committed is None:
                return self._wait(batch, error)
        if not await _database_answers():
            return self._wait(batch, error)
        await self._write_one_by_one(batch, error)  # the database is up but refused this batch
        return True

    def _wait(self, batch: list[CallRecord], error: Exception) -> bool:
        text = f"{type(error).__name__}: {error}"  # a timeout's own text is empty
        log.error("usage log write failed; will retry", rows=len(batch), error=text)
        if len(self._queue) > MAX_QUEUED:
            self._spill()
        return False

    async def _committed_anyway(self) -> bool | None:
        """Whether the transaction in `_unsure` committed: a time-out or a dropped connection can come after
        PostgreSQL received the COMMIT, which it then carries out (a frozen server does so when it wakes),
        and writing the batch again would log every call in it twice. None while the database does not
        answer or the transaction is still in progress; then `_unsure` stays set."""
        assert self._unsure is not None
        try:
            status = await _txid_status(self._unsure[0])
        except Exception:
            return None
        if status == "in progress":
            return None
        rows_unsure, self._unsure = self._unsure[1], None
        if status != "committed":  # aborted, or unknown (too old): write the batch again
            return False
        log.warning("a usage log write that failed had committed; not written again", rows=rows_unsure)
        return True

    async def _write_one_by_one(self, batch: list[CallRecord], batch_error: Exception) -> None:
        """Write each record alone and set aside the ones the database still refuses (logged with their
        request id, kept in ``usage-rejected.jsonl``) instead of retrying the same batch, and everything
        queued behind it, forever."""
        rejected = []
        for record in batch:
            try:
                await self._write([record])
            except Exception as exc:
                rejected.append(record)
                log.error(
                    "usage record refused by the database; set aside",
                    call_request_id=record.request_id[:64],
                    error=f"{type(exc).__name__}: {exc}",
                    batch_error=str(batch_error),
                )
        if rejected:
            _append_jsonl(self.settings.data_dir / "usage-rejected.jsonl", rejected)

    async def _write(self, batch: list[CallRecord]) -> None:
        metadata = tortoise_overrides.to_db_value(m.ModelCall, "metadata")
        postgres = tortoise_overrides.is_postgres(tortoise_overrides.connection_of(m.ModelCall))
        for record in batch:
            clean_record(record)
        rows = [call_values(r, metadata, sqlite=not postgres) for r in batch]
        self._txid = None
        async with in_transaction() as conn:  # the raw log and its rollups change together or not at all
            if postgres:  # so that a failure from here on can be checked for a commit (`_committed_anyway`)
                self._txid = int((await conn.execute_query_dict("SELECT txid_current() AS x"))[0]["x"])
            await conn.execute_many(_INSERT_CALLS[postgres], rows)
            await apply_rollups(batch)
        self._txid = None
        try:
            await _touch_counters(batch)
        except Exception as exc:  # the rows are committed: retrying the batch would log every call twice
            log.warning("key and credential last-use times not updated", rows=len(batch), error=str(exc))

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
        marker = None
        if self._unsure is not None:  # the first records may be in the database: the import asks (`_unsure`)
            marker = {"unsure_txid": self._unsure[0], "unsure_rows": self._unsure[1]}
            self._unsure = None
        _append_jsonl(self.spill_path, self._queue, marker)
        log.warning("usage records spilled to disk", rows=len(self._queue), path=str(self.spill_path))
        self._done(self._queue)
        self._queue.clear()

    async def _import_spill(self) -> None:
        """Queue what an earlier run spilled and write it like any batch. A line cut short by a crash is
        skipped and counted, so a spill file can never keep the hub from starting."""
        if not self.spill_path.exists():
            return
        records, unreadable, skip, skipped = [], 0, 0, 0
        for line in self.spill_path.read_text(errors="replace").splitlines():
            try:
                data: dict[str, Any] = json.loads(line)
                if "unsure_txid" in data:  # the next records' write failed, maybe after it committed
                    skip = int(data["unsure_rows"]) if await _committed(int(data["unsure_txid"])) else 0
                    continue
                data["usage"] = Usage(**data["usage"])
                record = CallRecord(**data)
            except (ValueError, TypeError, KeyError):
                unreadable += 1
                continue
            if skip:  # in the database already
                skip, skipped = skip - 1, skipped + 1
                continue
            records.append(record)
        self._queue[:0] = records
        await self.flush()  # what it cannot write yet stays queued (and is spilled again on stop)
        self.spill_path.unlink()
        log.info(
            "re-imported spilled usage records",
            rows=len(records),
            unreadable_lines=unreadable,
            already_written=skipped,
        )


async def _txid_status(txid: int) -> str | None:
    """PostgreSQL's word on transaction `txid`: committed, aborted, in progress, or None (unknown)."""
    conn = tortoise_overrides.connection_of(m.ModelCall)
    rows = await conn.execute_query_dict("SELECT txid_status($1) AS status", [txid])
    return rows[0]["status"] if rows else None


async def _committed(txid: int) -> bool:
    """Whether transaction `txid` surely committed (when unsure, no: a row twice beats a row lost)."""
    try:
        return await _txid_status(txid) == "committed"
    except Exception:
        return False


async def _database_answers() -> bool:
    try:
        await m.HubState.filter(key="").exists()
    except Exception:
        return False
    return True


def _append_jsonl(path: Path, records: list[CallRecord], first: dict[str, Any] | None = None) -> None:
    private_dir(path.parent)
    with open_private(path, "a") as fh:
        if first is not None:
            fh.write(json.dumps(first) + "\n")
        for record in records:
            fh.write(json.dumps(asdict(record)) + "\n")


async def amend_credits(record: CallRecord) -> None:
    """Correct a written row's credits and metadata after settlement charged less than the price (the row is
    written before the charge). The hourly and daily totals keep the price."""
    await m.ModelCall.filter(request_id=record.request_id[:64]).update(
        credits=record_credit_units(record), metadata=record.extra
    )


async def _touch_counters(batch: list[CallRecord]) -> None:
    """Credential usage counts and key last-use times, one UPDATE per credential/key per batch."""
    now = datetime.now(UTC)
    uses = Counter(r.credential_id for r in batch if r.credential_id is not None)
    for cred_id, n in uses.items():
        await m.Credential.filter(id=cred_id).update(usage_count=F("usage_count") + n, last_used_at=now)
    keys = {r.key_id for r in batch if r.key_id is not None}
    if keys:
        await m.AccessKey.filter(id__in=list(keys)).update(last_used_at=now)
