"""OpenAI's Videos API (Sora) as the hub's standard for video generation: an asynchronous job.

``POST /videos`` (multipart form: prompt, model, seconds, size, optional ``input_reference`` file) answers a
``video`` object ``{id, status: queued|in_progress|completed|failed, progress, seconds, size, error}``;
``GET /videos/{id}`` polls it and ``GET /videos/{id}/content`` downloads the MP4. A provider with another
video API turns its own job into this object in its normalizer and `Provider.video_job`.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from hub_core.errors import HubError, bad_request
from hub_core.providers.multipart import FilePart, form_data
from hub_core.types import UpstreamRequest

FORM_FIELDS = ("model", "prompt", "seconds", "size")
PENDING = ("queued", "in_progress")


def create_request(url: str, headers: dict[str, str], payload: dict[str, Any]) -> UpstreamRequest:
    """The create call from a standard video request; ``input_reference`` is ``{data (base64), mimeType,
    filename}`` when the caller sent a starting image."""
    fields = [(k, str(payload[k])) for k in FORM_FIELDS if payload.get(k) not in (None, "")]
    files: list[FilePart] = []
    reference = payload.get("input_reference")
    if isinstance(reference, dict) and reference.get("data"):
        try:
            data = base64.b64decode(str(reference["data"]), validate=False)
        except (binascii.Error, ValueError) as exc:
            raise bad_request("The reference image is not valid base64", param="input.image") from exc
        mime = str(reference.get("mimeType") or "image/png")
        files.append(("input_reference", str(reference.get("filename") or "reference.png"), mime, data))
    body, content_type = form_data(fields, files)
    return UpstreamRequest("POST", url, headers={**headers, "Content-Type": content_type}, body=body)


def job_of(body: bytes) -> dict[str, Any]:
    try:
        job = json.loads(body)
    except ValueError as exc:
        raise HubError(
            502, "upstream_malformed", f"Upstream sent malformed JSON: {exc}", type="upstream_error"
        ) from exc
    if not isinstance(job, dict) or not isinstance(job.get("id"), str):
        raise HubError(
            502, "upstream_malformed", "Upstream sent a video job without an id", type="upstream_error"
        )
    return job


def seconds_of(job: dict[str, Any]) -> float:
    try:
        return float(job.get("seconds") or 0)
    except (TypeError, ValueError):
        return 0.0
