"""A tiny real HTTP client for the tests (stdlib only): status, parsed JSON and headers of one request."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any


@dataclass
class Answer:
    status: int
    body: Any
    text: str
    headers: dict[str, str]  # lower-case names

    @property
    def error(self) -> dict[str, Any]:
        """The ``error`` object of an error answer (every dialect nests it under ``error``)."""
        return self.body["error"]


def call(
    method: str,
    url: str,
    *,
    key: str | None = None,
    json_body: Any = None,
    data: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 30.0,
) -> Answer:
    all_headers = dict(headers or {})
    if key is not None:
        all_headers["Authorization"] = f"Bearer {key}"
    if json_body is not None:
        data = json.dumps(json_body).encode()
        all_headers.setdefault("Content-Type", "application/json")
    req = urllib.request.Request(url, data=data, method=method, headers=all_headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            status, raw, hdrs = resp.status, resp.read(), dict(resp.headers)
    except urllib.error.HTTPError as exc:
        status, raw, hdrs = exc.code, exc.read(), dict(exc.headers)
    hdrs = {k.lower(): v for k, v in hdrs.items()}  # HTTP header names are case-insensitive
    text = raw.decode("utf-8", errors="replace")
    try:
        body = json.loads(text) if text else None
    except ValueError:
        body = None
    return Answer(status, body, text, hdrs)


def chat(
    base_url: str,
    model: str,
    *,
    key: str | None = None,
    headers: dict[str, str] | None = None,
    content: str = "hello",
    **extra: Any,
) -> Answer:
    """POST /v1/chat/completions with one user message."""
    body = {"model": model, "messages": [{"role": "user", "content": content}], **extra}
    return call("POST", f"{base_url}/v1/chat/completions", key=key, json_body=body, headers=headers)
