"""The request a call belongs to: its id, its headers and the API call it made, kept in a context variable
the web layer sets for every HTTP request, so the pipeline can read them without knowing the web framework.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from hub_core.types import random_id

if TYPE_CHECKING:
    from hub_core.pipeline.gateway import CallContext

#: the longest client-chosen request id the hub adopts (longer ones get a fresh id)
MAX_REQUEST_ID = 64


class RequestInfo:
    """One HTTP request as the hub sees it: its id, its headers (lower-case names, first value of repeated
    ones, as ``headers.get`` gives) and the API call it made, if any (for the response's cost header)."""

    __slots__ = ("call", "headers", "request_id")

    def __init__(self, request_id: str, headers: dict[str, str]) -> None:
        self.request_id = request_id
        self.headers = headers
        self.call: CallContext | None = None


current: ContextVar[RequestInfo | None] = ContextVar("aigne_hub_request", default=None)


def current_request() -> RequestInfo | None:
    """The request being handled (None outside one, e.g. in a test request context without the wrapper)."""
    return current.get()


def request_id_from(rid: str | None) -> str:
    """The client's ``x-request-id`` value when it is a usable one, else a fresh id."""
    if rid and len(rid) <= MAX_REQUEST_ID and rid.isprintable():
        return rid
    return random_id()


def request_header(req: Any, name: str) -> str | None:
    """The request header `name` (lower case): from the dict the web layer built from the raw headers, as
    werkzeug's ``headers.get`` raises and catches an exception for every absent header, and the hot path asks
    for several that are usually absent (x-request-id, x-api-key, x-aigne-hub-client-did)."""
    info = current.get()
    if info is not None:
        return info.headers.get(name)
    return req.headers.get(name)  # a request context made without the ASGI layer (tests)
