"""Every use of structlog's private internals in one place: its registry of context variables, so a log line
reads only the variables structlog made instead of scanning the whole context (Quart, Tortoise and asyncio
keep theirs there too). None under a structlog without it: the hub then uses structlog's own functions.
pyproject pins structlog to the versions tested; tests/test_library_overrides.py checks the shape."""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

try:
    from structlog.contextvars import _CONTEXT_VARS as CONTEXT_VARS
    from structlog.contextvars import STRUCTLOG_KEY_PREFIX_LEN as PREFIX_LEN
except ImportError:  # pragma: no cover - another structlog
    CONTEXT_VARS: dict[str, ContextVar[Any]] | None = None  # type: ignore[no-redef]
    PREFIX_LEN = 0
