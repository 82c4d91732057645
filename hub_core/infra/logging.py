"""structlog setup: a request id on every line, console output on a terminal and JSON otherwise, and a
processor that masks anything that looks like a secret before it is written."""

from __future__ import annotations

import json
import logging
import re
import sys
import threading
import time
from collections.abc import Callable
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, TextIO

import structlog

from hub_core.config import Settings
from hub_core.infra import json_overrides, structlog_overrides

_SECRET_FIELDS = re.compile(r"(authorization|api[_-]?key|secret|password|token|credential|value)$", re.I)
_SECRET_VALUES = re.compile(r"\b(ahk-|sk-|Bearer\s+)([A-Za-z0-9_\-]{4})[A-Za-z0-9_\-]{8,}([A-Za-z0-9_\-]{4})")
# every context variable structlog has made (`bind_contextvars`), by prefixed name; None: another structlog,
# whose own `merge_contextvars` is used
_STRUCTLOG_VARS = structlog_overrides.CONTEXT_VARS
_PREFIX_LEN = structlog_overrides.PREFIX_LEN
#: field names seen in log lines that do not name a secret; lines use a few dozen names over and over
_plain_fields: set[str] = set()


def _mask_value(value: str) -> str:
    return value[:4] + "…" + value[-4:] if len(value) >= 12 else "***"


def mask_secret_fields(_logger: Any, _name: str, event: dict[str, Any]) -> dict[str, Any]:
    """Mask the whole value of a field whose name says it is a secret (``api_key``, ``authorization``...).
    Secrets inside other values are masked when the line is rendered (`masking`)."""
    for key in event.keys() - _plain_fields:  # usually empty: every name already seen and found plain
        if key != "event" and _SECRET_FIELDS.search(key) is not None:
            if isinstance(event[key], str):
                event[key] = _mask_value(event[key])
        elif len(_plain_fields) < 4096:
            _plain_fields.add(key)
    return event


def mask_secret_values(event: dict[str, Any]) -> dict[str, Any]:
    """Mask keys and tokens (``ahk-...``, ``sk-...``, ``Bearer ...``) inside any string value."""
    for key, value in event.items():  # replacing values (not keys) while iterating is safe
        # every match of _SECRET_VALUES contains "k-" (ahk-, sk-) or "Bearer": skip the regex otherwise
        if isinstance(value, str) and ("k-" in value or "Bearer" in value) and _SECRET_VALUES.search(value):
            event[key] = _SECRET_VALUES.sub(r"\1\2…\3", value)
    return event


Renderer = Callable[[Any, str, dict[str, Any]], str]


def masking(render: Renderer, *, pops: bool) -> Renderer:
    """`render`, with tokens in values masked: a rendered line that cannot hold one (no "k-", no "Bearer":
    nearly every line) is written as it is; otherwise the values are masked (`mask_secret_values`) and the
    line rendered again. Checking the line once costs less than checking every value of every line.
    `pops`: the renderer takes fields out of the event (ConsoleRenderer does), so it gets a copy."""

    def render_masked(logger: Any, name: str, event: dict[str, Any]) -> str:
        line = render(logger, name, dict(event) if pops else event)
        if "k-" in line or "Bearer" in line:
            line = render(logger, name, mask_secret_values(event))
        return line

    return render_masked


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
#: the fields every line of the current request carries (request id, path, then provider and model); the
#: dict is never changed in place: `bind` sets a new one, so a task only ever changes its own context
_context: ContextVar[dict[str, Any]] = ContextVar("aigne_hub_log_context", default={})  # noqa: B039


def _merge_contextvars(_logger: Any, _name: str, event: dict[str, Any]) -> dict[str, Any]:
    """The request's fields (`new_context`, `bind`), then anything bound with structlog's own
    ``bind_contextvars`` (plugins may), read from structlog's variables instead of scanning every variable
    of the context (Quart, Tortoise and asyncio keep theirs there too)."""
    for key, value in _context.get().items():
        event.setdefault(key, value)
    if _STRUCTLOG_VARS:
        for key, var in list(_STRUCTLOG_VARS.items()):  # list: another thread may bind a new key meanwhile
            value = var.get()
            if value is not Ellipsis:  # structlog's "unbound" (its variables default to Ellipsis)
                name = _unprefixed.get(key)
                if name is None:
                    name = _unprefixed[key] = key[_PREFIX_LEN:]
                event.setdefault(name, value)
    return event


def new_context(**values: Any) -> None:
    """Start a request's log context (at the start of every request): these fields only, and nothing bound
    with structlog's ``bind_contextvars`` before."""
    _context.set(values)
    if _STRUCTLOG_VARS is None:
        structlog.contextvars.clear_contextvars()
    elif _STRUCTLOG_VARS:
        for var in list(_STRUCTLOG_VARS.values()):
            if var.get() is not Ellipsis:
                var.set(Ellipsis)


def bind(**values: Any) -> None:
    """Add fields to every later line of this request (of this task and the tasks it starts)."""
    _context.set({**_context.get(), **values})


def _structlog_default(obj: Any) -> Any:
    """What structlog's `JSONRenderer` writes for a value JSON cannot: its ``__structlog__()``, else repr."""
    try:
        return obj.__structlog__()
    except AttributeError:
        return repr(obj)


_JSON = json.JSONEncoder(default=_structlog_default)
# json.dumps' own C encoder, made once instead of per line (an event dict is never circular: no markers)
_C_JSON = json_overrides.c_encoder(_structlog_default, ": ", ", ")


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


def _format_exc_info(logger: Any, name: str, event: dict[str, Any]) -> dict[str, Any]:
    """structlog's `format_exc_info`, not called for the lines without ``exc_info`` (nearly all)."""
    if "exc_info" not in event:
        return event
    return structlog.processors.format_exc_info(logger, name, event)


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


class RepeatLimiter:
    """At most `burst` lines with the same message (and level) per `window` seconds; the first line let
    through after some were left out says how many (``suppressed``). A database outage makes the same
    warning on every request and retry (44 a second of "usage log write failed" in one measurement): a few
    say it as well, and the rest would only bury the other lines. Per-call lines (`emit`) skip this."""

    MAX_KEYS = 1024  # messages are constants in the code; a bound in case one is not

    def __init__(self, burst: int = 5, window: float = 10.0) -> None:
        self.burst = burst
        self.window = window
        self._seen: dict[tuple[str, str], list[float]] = {}  # key -> [window start, lines, left out]

    def reset(self) -> None:
        self._seen.clear()

    def allow(self, level: str, message: str) -> int | None:
        """None to leave the line out; else how many like it were left out before it (0 usually)."""
        now = time.monotonic()
        key = (level, message)
        seen = self._seen.get(key)
        if seen is None or now - seen[0] >= self.window:
            if len(self._seen) >= self.MAX_KEYS:
                self._seen.clear()
            left_out = int(seen[2]) if seen is not None else 0
            self._seen[key] = [now, 1, 0]
            return left_out
        if seen[1] < self.burst:
            seen[1] += 1
            return 0
        seen[2] += 1
        return None


_REPEATS = RepeatLimiter()


def _limit_repeats(_logger: Any, name: str, event: dict[str, Any]) -> dict[str, Any]:
    """Lines at warning and above are rate limited per message (`RepeatLimiter`); info and debug are not."""
    if name in ("info", "debug", "msg"):
        return event
    left_out = _REPEATS.allow(name, str(event.get("event")))
    if left_out is None:
        raise structlog.DropEvent
    if left_out:
        event["suppressed"] = left_out
    return event


class _RepeatFilter(logging.Filter):
    """`RepeatLimiter` for the standard library's lines (asyncpg, Tortoise, Hypercorn, aiohttp, asyncio)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return True
        left_out = _REPEATS.allow(record.levelname.lower(), f"{record.name}:{record.msg}")
        if left_out:
            record.suppressed = left_out
        return left_out is not None


def _stdlib_fields(_logger: Any, _name: str, event: dict[str, Any]) -> dict[str, Any]:
    """The logger's name and a count of left-out repeats on a line from a library."""
    record: logging.LogRecord | None = event.get("_record")
    if record is not None:
        event["logger"] = record.name
        if suppressed := getattr(record, "suppressed", 0):
            event["suppressed"] = suppressed
    return event


_HANDLER_NAME = "aigne-hub"


def _route_stdlib_logging(level: int, renderer: Renderer, pops: bool) -> None:
    """Send every library's log lines (asyncpg, Tortoise, Hypercorn, aiohttp, asyncio ...) through the same
    processors and renderer as the hub's own: one format, tracebacks inside the line, secrets masked."""
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[
            structlog.stdlib.add_log_level,
            _stdlib_fields,
            _timestamp,
            structlog.processors.format_exc_info,  # exc_info=True on a record: the traceback as a field
        ],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            mask_secret_fields,
            masking(renderer, pops=pops),
        ],
    )
    handler = logging.StreamHandler(_StderrProxy())
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(formatter)
    handler.addFilter(_RepeatFilter())
    root = logging.getLogger()
    root.handlers = [h for h in root.handlers if h.get_name() != _HANDLER_NAME] + [handler]
    root.setLevel(level)


def log_uncaught_exceptions() -> None:
    """Uncaught exceptions (the main thread's, another thread's) as log lines instead of plain tracebacks on
    stderr; for the serving process (the CLI), not for a library user's or a test runner's process."""
    sys.excepthook = _log_uncaught
    threading.excepthook = _log_uncaught_in_thread


class _StderrProxy:
    """The stderr the hub's own lines go to (`_Output`), looked up per line: pytest and `configure_logging`
    swap it."""

    def write(self, text: str) -> int:
        return _OUTPUT.file.write(text)

    def flush(self) -> None:
        _OUTPUT.file.flush()


def _log_uncaught(kind: type[BaseException], exc: BaseException, tb: Any) -> None:
    if issubclass(kind, KeyboardInterrupt):
        sys.__excepthook__(kind, exc, tb)
        return
    structlog.get_logger("hub_core").critical("uncaught exception", exc_info=(kind, exc, tb))


def _log_uncaught_in_thread(args: threading.ExceptHookArgs) -> None:
    if args.exc_value is None or isinstance(args.exc_value, SystemExit):
        return
    structlog.get_logger("hub_core").error(
        "uncaught exception in a thread",
        thread=args.thread.name if args.thread else None,
        exc_info=(args.exc_type, args.exc_value, args.exc_traceback),
    )


def configure_logging(settings: Settings) -> None:
    level = getattr(logging, settings.log_level.upper(), logging.INFO)
    fmt = settings.log_format
    _OUTPUT.use(sys.stderr)
    use_console = sys.stderr.isatty() if fmt == "auto" else fmt == "console"
    renderer: Any = structlog.dev.ConsoleRenderer() if use_console else _render_json
    _level[0] = level
    _processors[:] = [
        _merge_contextvars if _STRUCTLOG_VARS is not None else structlog.contextvars.merge_contextvars,
        mask_secret_fields,
        structlog.processors.add_log_level,
        _timestamp,
        _format_exc_info,
        masking(renderer, pops=use_console),  # tokens in values, tracebacks included
    ]
    _REPEATS.reset()  # a new configuration (a new app: tests make many) starts with every message unseen
    _route_stdlib_logging(level, renderer, use_console)
    structlog.configure(
        # `emit` (one line per call) skips `_limit_repeats`: every call keeps its line
        processors=[_limit_repeats, *_processors],
        wrapper_class=structlog.make_filtering_bound_logger(level),  # lines below the level cost nothing
        logger_factory=_output_factory,
        cache_logger_on_first_use=False,
    )


def _output_factory(*_args: Any) -> _Output:
    return _OUTPUT
