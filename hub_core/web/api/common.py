"""Helpers every blueprint uses: the hub of the current app, JSON bodies, error shapes per dialect."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import structlog
from quart import Response, current_app, has_request_context, request
from werkzeug.exceptions import HTTPException

from hub_core.errors import HubError, bad_request
from hub_core.infra import jsonio

log = structlog.get_logger("hub_core.web.api")

if TYPE_CHECKING:
    from hub_core.hub import Hub


def current_hub() -> Hub:
    return current_app.extensions["aigne_hub"]


def request_base_url() -> str:
    """The hub's public base URL as the current request sees it (for payment links); "" outside a request."""
    if not has_request_context():
        return ""
    return request.host_url.rstrip("/") + current_hub().settings.mount_path


async def json_body() -> dict[str, Any]:
    """The request body as a JSON object, or a 400/413 `HubError`."""
    raw = await request.get_data(cache=False)
    if not raw:
        raise bad_request("Request body must be a JSON object")
    try:
        data = jsonio.loads(raw)
    except ValueError as exc:
        raise bad_request(f"Request body is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise bad_request("Request body must be a JSON object")
    if (b"\\ud" in raw or b"\\uD" in raw) and not _encodable(data):
        raise bad_request("Request body contains an unpaired UTF-16 surrogate (\\ud800-\\udfff)")
    return data


def _encodable(data: Any) -> bool:
    """JSON lets ``"\\ud800"`` through as a lone surrogate, which no UTF-8 writer (database, log, upstream
    request, our own error message) accepts; checked only when the body has such an escape."""
    try:
        json.dumps(data, ensure_ascii=False).encode()
    except UnicodeEncodeError:
        return False
    return True


def as_hub_error(exc: Exception) -> HubError:
    if isinstance(exc, HubError):
        return exc
    from hub_core.db.errors import storage_error

    if (mapped := storage_error(exc)) is not None:  # database down (503) or a value too big for it (400)
        if mapped.status >= 500:
            log.warning("database unavailable", error=f"{type(exc).__name__}: {exc}")
        return mapped
    if isinstance(exc, HTTPException):
        code = exc.code or 500
        if code == 413:
            return HubError(413, "request_too_large", "Request body is too large")
        if code == 404:
            return HubError(404, "not_found", "Not found")
        if code == 405:
            return HubError(405, "method_not_allowed", "Method not allowed")
        if code >= 500:
            log.exception("unhandled error", exc_info=exc)
        return HubError(code, "http_error", exc.description or exc.name)
    # every blueprint's error handler comes here, so this is the one place a bug leaves its traceback
    log.exception("unhandled error", exc_info=exc)
    return HubError(500, "internal_error", "Internal server error")


def json_response(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
    return Response(body, status=status, headers=headers, content_type="application/json")


def openai_error(err: HubError) -> Response:
    payload = {"error": {"message": err.message, "type": err.type, "param": err.param, "code": err.code}}
    return json_response(payload, err.status, err.headers)


def aigne_error(err: HubError) -> Response:
    """The shape the AIGNE client reads: ``{"error": {"message", "type"}}``."""
    error: dict[str, Any] = {
        "message": err.message,
        "type": err.extra.get("aigne_type", err.type),
        "code": err.code,
    }
    if "link" in err.extra:
        error["link"] = err.extra["link"]
    return json_response({"error": error}, err.status, err.headers)


def admin_error(err: HubError) -> Response:
    error: dict[str, Any] = {"message": err.message, "code": err.code, "type": err.type}
    if "detail" in err.extra:  # e.g. what the vendor said about a refused credential
        error["detail"] = err.extra["detail"]
    return json_response({"error": error}, err.status, err.headers)
