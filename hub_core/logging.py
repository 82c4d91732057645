"""structlog setup: a request id on every line, console output on a terminal and JSON otherwise, and a
processor that masks anything that looks like a secret before it is written."""

from __future__ import annotations

import logging
import re
import sys
from typing import Any

import structlog

from hub_core.config import Settings

_SECRET_FIELDS = re.compile(r"(authorization|api[_-]?key|secret|password|token|credential|value)$", re.I)
_SECRET_VALUES = re.compile(r"\b(ahk-|sk-|Bearer\s+)([A-Za-z0-9_\-]{4})[A-Za-z0-9_\-]{8,}([A-Za-z0-9_\-]{4})")


def mask_secrets(_logger: Any, _name: str, event: dict[str, Any]) -> dict[str, Any]:
    for key, value in list(event.items()):
        if isinstance(value, str):
            if _SECRET_FIELDS.search(key) and key not in ("event",):
                event[key] = value[:4] + "…" + value[-4:] if len(value) >= 12 else "***"
            elif _SECRET_VALUES.search(value):
                event[key] = _SECRET_VALUES.sub(r"\1\2…\3", value)
    return event


def configure_logging(settings: Settings) -> None:
    level = getattr(logging, settings.log_level.upper(), logging.INFO)
    fmt = settings.log_format
    use_console = sys.stderr.isatty() if fmt == "auto" else fmt == "console"
    renderer: Any = structlog.dev.ConsoleRenderer() if use_console else structlog.processors.JSONRenderer()
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            mask_secrets,
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        cache_logger_on_first_use=False,
    )
