"""structlog setup: a request id on every line, console output on a terminal and JSON otherwise, and a
processor that masks anything that looks like a secret before it is written."""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from datetime import UTC, datetime
from json.encoder import c_make_encoder, encode_basestring_ascii  # type: ignore[attr-defined]
from typing import Any, TextIO

import structlog

from hub_core.config import Settings

_SECRET_FIELDS = re.compile(r"(authorization|api[_-]?key|secret|password|token|credential|value)$", re.I)
_SECRET_VALUES = re.compile(r"\b(ahk-|sk-|Bearer\s+)([A-Za-z0-9_\-]{4})[A-Za-z0-9_\-]{8,}([A-Za-z0-9_\-]{4})")
try:  # every context variable structlog has made (`bind_contextvars`), by prefixed name
    from structlog.contextvars import _CONTEXT_VARS as _STRUCTLOG_VARS
    from structlog.contextvars import STRUCTLOG_KEY_PREFIX_LEN as _PREFIX_LEN
except ImportError:  # another structlog: its own `merge_contextvars` is used
    _STRUCTLOG_VARS = None
    _PREFIX_LEN = 0
#: field name -> whether its value is masked whole; log lines use a few dozen names over and over
_secret_field_cache: dict[str, bool] = {}


def _secret_field(key: str) -> bool:
    hit = _secret_field_cache.get(key)
    if hit is None:
        hit = key != "event" and _SECRET_FIELDS.search(key) is not None
        if len(_secret_field_cache) < 4096:
            _secret_field_cache[key] = hit
    return hit


def mask_secrets(_logger: Any, _name: str, event: dict[str, Any]) -> dict[str, Any]:
    known = _secret_field_cache
    for key, value in event.items():  # replacing values (not keys) while iterating is safe
        if isinstance(value, str):
            secret = known.get(key)
            if secret is None:
                secret = _secret_field(key)
            if secret:
                event[key] = value[:4] + "…" + value[-4:] if len(value) >= 12 else "***"
            # every match of _SECRET_VALUES contains "k-" (ahk-, sk-) or "Bearer": skip the regex otherwise
            elif ("k-" in value or "Bearer" in value) and _SECRET_VALUES.search(value):
                event[key] = _SECRET_VALUES.sub(r"\1\2…\3", value)
    return event


class _Output:
    """The logger structlog wraps: one ``write`` per line to the stderr found by the last
    `configure_logging`. One shared object, so building a bound logger per call (structlog does, and must:
    tests build many apps per process and each reconfigures) costs no file or lock lookups."""

    def __init__(self) -> None:
        self.file: TextIO = sys.stderr
        self.flush = False

    def use(self, file: TextIO) -> None:
        self.file = file
        # stderr is line-buffered or unbuffered: the newline ends up on the wire without a flush call
        self.flush = not (getattr(file, "line_buffering", False) or getattr(file, "write_through", False))

    def msg(self, message: str) -> None:
        self.file.write(message + "\n")
        if self.flush:
            self.file.flush()

    debug = info = warn = warning = error = err = exception = critical = fatal = failure = log = msg


_OUTPUT = _Output()


_unprefixed: dict[str, str] = {}


def _merge_contextvars(_logger: Any, _name: str, event: dict[str, Any]) -> dict[str, Any]:
    """structlog's `merge_contextvars`, reading structlog's own context variables instead of scanning every
    variable of the context (Quart, Tortoise and asyncio keep theirs there too)."""
    for key, var in list(_STRUCTLOG_VARS.items()):  # list: another thread may bind a new key meanwhile
        value = var.get()
        if value is not Ellipsis:  # structlog's "unbound" (its variables default to Ellipsis)
            name = _unprefixed.get(key)
            if name is None:
                name = _unprefixed[key] = key[_PREFIX_LEN:]
            event.setdefault(name, value)
    return event


def new_context(**values: Any) -> None:
    """``clear_contextvars()`` then ``bind_contextvars(**values)`` (at the start of every request), clearing
    structlog's own variables instead of scanning every variable of the context."""
    if _STRUCTLOG_VARS is None:
        structlog.contextvars.clear_contextvars()
    else:
        for var in list(_STRUCTLOG_VARS.values()):
            if var.get() is not Ellipsis:
                var.set(Ellipsis)
    structlog.contextvars.bind_contextvars(**values)


def _structlog_default(obj: Any) -> Any:
    """What structlog's `JSONRenderer` writes for a value JSON cannot: its ``__structlog__()``, else repr."""
    try:
        return obj.__structlog__()
    except AttributeError:
        return repr(obj)


_JSON = json.JSONEncoder(default=_structlog_default)
# json.dumps' own C encoder, made once instead of per line (an event dict is never circular: no markers)
_C_JSON = c_make_encoder and c_make_encoder(
    None, _structlog_default, encode_basestring_ascii, None, ": ", ", ", False, False, True
)


def _render_json(_logger: Any, _name: str, event: dict[str, Any]) -> str:
    """``json.dumps(event, default=...)``, as structlog's `JSONRenderer` writes it."""
    return "".join(_C_JSON(event, 0)) if _C_JSON else _JSON.encode(event)


_stamp_cache: list[Any] = [None, ""]  # [unix second, its "YYYY-MM-DDTHH:MM:SS" in UTC]


def _timestamp(_logger: Any, _name: str, event: dict[str, Any]) -> dict[str, Any]:
    """What ``TimeStamper(fmt="iso", utc=True)`` writes (``...T17:33:00.123456Z``), with the date and time
    formatted once a second instead of on every line."""
    second, micro = divmod(time.time_ns() // 1000, 1_000_000)
    if second != _stamp_cache[0]:
        _stamp_cache[:] = [second, datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S")]
    event["timestamp"] = f"{_stamp_cache[1]}.{micro:06d}Z" if micro else f"{_stamp_cache[1]}Z"
    return event


_processors: list[Any] = []  # what `configure_logging` gave structlog, for `emit`
_level = [logging.INFO]
_LEVEL_OF = {"info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR}


def emit(method: str, event: dict[str, Any]) -> None:
    """``structlog.get_logger().<method>(**event)`` (``event["event"]`` is the message) for a line written on
    every call: the same processors and output, without structlog assembling a bound logger per line.
    `method` is ``info``, ``warning`` or ``error``."""
    if _LEVEL_OF[method] < _level[0]:
        return
    try:
        for processor in _processors:
            event = processor(_OUTPUT, method, event)
    except structlog.DropEvent:
        return
    _OUTPUT.msg(event)  # type: ignore[arg-type]  # the last processor renders a str


def configure_logging(settings: Settings) -> None:
    level = getattr(logging, settings.log_level.upper(), logging.INFO)
    fmt = settings.log_format
    _OUTPUT.use(sys.stderr)
    use_console = sys.stderr.isatty() if fmt == "auto" else fmt == "console"
    renderer: Any = structlog.dev.ConsoleRenderer() if use_console else _render_json
    _level[0] = level
    _processors[:] = [
        _merge_contextvars if _STRUCTLOG_VARS is not None else structlog.contextvars.merge_contextvars,
        mask_secrets,  # before the level and time are added: those are never secrets
        structlog.processors.add_log_level,
        _timestamp,
        structlog.processors.format_exc_info,
        renderer,
    ]
    structlog.configure(
        processors=list(_processors),
        wrapper_class=structlog.make_filtering_bound_logger(level),  # lines below the level cost nothing
        logger_factory=_output_factory,
        cache_logger_on_first_use=False,
    )


def _output_factory(*_args: Any) -> _Output:
    return _OUTPUT
