"""Per provider/model availability: whether the last call or check worked, its error and response time.

Kept in memory (read on every model listing) and written behind to the ``model_status`` table, coalesced:
at most one write per (provider, model, kind) per flush, so busy models cost one row update a second.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import structlog
from tortoise.exceptions import IntegrityError

from hub_core.db import models as m

log = structlog.get_logger("hub_core.routing.status")

Key = tuple[str, str, str]  # provider, model, kind


@dataclass(slots=True)
class ModelState:
    provider: str
    model: str
    kind: str
    available: bool = True
    error_code: str | None = None
    error: str | None = None
    response_ms: float | None = None
    checked_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @classmethod
    def from_row(cls, row: m.ModelStatus) -> ModelState:
        return cls(
            row.provider,
            row.model,
            row.kind,
            row.available,
            row.error_code,
            row.error,
            row.response_ms,
            row.checked_at,
        )

    @property
    def key(self) -> Key:
        return (self.provider, self.model, self.kind)

    def as_dict(self) -> dict[str, Any]:
        error = {"code": self.error_code, "message": self.error} if self.error else None
        return {
            "provider": self.provider,
            "model": self.model,
            "type": self.kind,
            "available": self.available,
            "error": error,
            "responseTime": round(self.response_ms, 1) if self.response_ms is not None else None,
            "checkedAt": self.checked_at.isoformat(),
        }


class ModelStatusBook:
    def __init__(self) -> None:
        self._states: dict[Key, ModelState] = {}
        self._dirty: set[Key] = set()

    def get(self, provider: str, model: str, kind: str) -> ModelState | None:
        return self._states.get((provider, model, kind))

    def all(self) -> list[ModelState]:
        return sorted(self._states.values(), key=lambda s: s.key)

    def record(
        self,
        provider: str,
        model: str,
        kind: str,
        *,
        available: bool | None,
        error_code: str | None = None,
        error: str | None = None,
        response_ms: float | None = None,
    ) -> ModelState:
        """Note what a call or check found; ``available=None`` keeps the previous verdict (a rate limit says
        nothing about whether the model works)."""
        key = (provider, model, kind)
        state = self._states.get(key) or ModelState(provider, model, kind)
        if available is not None:
            state.available = available
        state.error_code, state.error = error_code, (error or None) and error[:2000]
        if response_ms is not None:
            state.response_ms = response_ms
        state.checked_at = datetime.now(UTC)
        if len(self._states) > 50_000:  # a flood of made-up model names must not grow memory forever
            self._states.clear()
        self._states[key] = state
        self._dirty.add(key)
        return state

    async def flush(self) -> None:
        """Write the changed entries (upsert by provider, model, kind)."""
        dirty, self._dirty = self._dirty, set()
        for key in dirty:
            state = self._states.get(key)
            if state is None:
                continue
            try:
                await _upsert(state)
            except Exception as exc:  # the database may be briefly away: keep it for the next flush
                self._dirty.add(key)
                log.warning("model status not saved", provider=key[0], model=key[1], error=str(exc))
                return

    async def load(self) -> None:
        """Merge what the database holds (other instances' findings) into memory; newer wins."""
        for row in await m.ModelStatus.all():
            key = (row.provider, row.model, row.kind)
            mine = self._states.get(key)
            if mine is not None and (key in self._dirty or mine.checked_at >= row.checked_at):
                continue
            self._states[key] = ModelState.from_row(row)


async def _upsert(state: ModelState) -> None:
    values = {
        "available": state.available,
        "error_code": state.error_code,
        "error": state.error,
        "response_ms": state.response_ms,
        "checked_at": state.checked_at,
    }
    where = {"provider": state.provider, "model": state.model, "kind": state.kind}
    if await m.ModelStatus.filter(**where).update(**values):
        return
    try:
        await m.ModelStatus.create(**where, **values)
    except IntegrityError:  # another instance inserted it first
        await m.ModelStatus.filter(**where).update(**values)
