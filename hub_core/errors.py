"""One error family for the whole hub.

Every failure a client can see is a `HubError`; each API dialect renders it in its own shape in one place
(`hub_core.web.api.errors`), so handlers only ever raise.
"""

from __future__ import annotations

from typing import Any


class HubError(Exception):
    """An error with an HTTP status, a machine-readable code and a human message.

    `type` is the dialect-neutral error class (OpenAI's `error.type`, AIGNE's `error.type`); `param` names
    the offending request field when there is one; `headers` are sent with the error (e.g. Retry-After).
    `detail` is a fuller account for the hub's own records (usage log, provider health, log lines) when the
    client is told less than the administrator should see; `full_message` is what those records keep.
    """

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        type: str | None = None,
        param: str | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
        detail: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.type = type or _default_type(status)
        self.param = param
        self.headers = headers or {}
        self.extra = extra or {}
        self.detail = detail

    @property
    def full_message(self) -> str:
        return self.detail or self.message

    def __repr__(self) -> str:
        return f"HubError({self.status}, {self.code!r}, {self.message!r})"


def _default_type(status: int) -> str:
    if status == 401:
        return "authentication_error"
    if status == 403:
        return "permission_error"
    if status == 404:
        return "not_found_error"
    if status == 413:
        return "request_too_large"
    if status == 429:
        return "rate_limit_error"
    if status < 500:
        return "invalid_request_error"
    return "api_error"


def bad_request(message: str, *, param: str | None = None, code: str = "invalid_request") -> HubError:
    return HubError(400, code, message, param=param)


def unauthorized(message: str = "Unauthorized: invalid or missing access key") -> HubError:
    return HubError(401, "invalid_api_key", message)


def forbidden(message: str = "Forbidden: this key may not do that") -> HubError:
    return HubError(403, "forbidden", message)


def not_found(message: str, *, code: str = "not_found") -> HubError:
    return HubError(404, code, message)


def upstream_auth_failed(label: str, vendor_message: str, upstream_status: int) -> HubError:
    """The vendor refused the hub's credential. The client learns only that: the vendor's text (which may
    quote the key, the account or the organisation) goes to the hub's records and the admin's views."""
    return HubError(
        502,
        "upstream_auth_failed",
        f"{label} rejected the hub's credential; the hub's administrator can see why",
        type="upstream_error",
        extra={"upstream_status": upstream_status},
        detail=f"{label} rejected the hub's credential: {vendor_message}",
    )


def model_not_found(model: str) -> HubError:
    return HubError(404, "model_not_found", f"Model {model} not found", param="model")
