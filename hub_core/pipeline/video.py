"""Video generation as one call: create the upstream job, poll it until it is done, download the clip.

It runs as the `then` step of `Gateway.call_json`, so the whole job is one routed call with one usage record
(its seconds), the same hooks for every request, and every request's errors mapped by the provider.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from hub_core.errors import HubError
from hub_core.providers.base import NormalizedResponse
from hub_core.providers.openai_video import PENDING, job_of, seconds_of

if TYPE_CHECKING:
    from hub_core.pipeline.gateway import CallContext, Gateway
    from hub_core.types import Route, UpstreamRequest

FIRST_POLL = 0.25  # seconds; doubles up to MAX_POLL, so short fakes finish fast and long renders poll gently
MAX_POLL = 5.0
MAX_WAIT = 1800.0
#: builds the next request of a job from the job object (``video_poll_request``, ``video_content_request``)
JobRequest = Callable[["Route", dict[str, Any]], "UpstreamRequest"]


class VideoJob:
    """The `then` step of a video call. After it ran, `job` is the finished job and `content` the clip."""

    def __init__(self, gateway: Gateway, ctx: CallContext, max_wait: float = MAX_WAIT) -> None:
        self.gateway = gateway
        self.ctx = ctx
        self.max_wait = max_wait
        self.job: dict[str, Any] = {}
        self.content = b""

    async def __call__(self, route: Route, created: NormalizedResponse) -> NormalizedResponse:
        job = created.json()
        poll, download = job_requests(route)
        delay, deadline = FIRST_POLL, time.monotonic() + self.max_wait
        while job.get("status") in PENDING:
            if time.monotonic() > deadline:
                raise HubError(504, "upstream_timeout", f"Video job {job.get('id')} did not finish in time")
            await asyncio.sleep(delay)
            delay = min(delay * 2, MAX_POLL)
            job = read_job(route, await self.gateway.follow_up(self.ctx, route, poll(route, job)))
        if job.get("status") != "completed":
            raise failed(job)
        self.content = await self.gateway.follow_up(self.ctx, route, download(route, job))
        self.job = job
        self.ctx.record.usage.seconds = seconds_of(job) or self.ctx.record.usage.seconds
        self.ctx.record.extra["video_id"] = job.get("id")
        return NormalizedResponse(job, self.ctx.record.usage)


def job_requests(route: Route) -> tuple[JobRequest, JobRequest]:
    """The provider's poll and download requests (the video part of the provider contract)."""
    poll = getattr(route.provider, "video_poll_request", None)
    download = getattr(route.provider, "video_content_request", None)
    if poll is None or download is None:
        raise HubError(400, "unsupported_operation", f"Provider {route.provider_name} cannot run video jobs")
    return poll, download


def read_job(route: Route, body: bytes) -> dict[str, Any]:
    """A poll answer as the standard job object: the provider's ``video_job(body)`` when its video API has
    another shape (Gemini's long-running operations), else OpenAI's video object."""
    reader = getattr(route.provider, "video_job", None)
    return reader(body) if reader is not None else job_of(body)


def failed(job: dict[str, Any]) -> HubError:
    error = job.get("error") if isinstance(job.get("error"), dict) else {}
    message = error.get("message") or f"status {job.get('status')}"
    return HubError(502, "video_failed", f"Video generation failed: {message}", type="upstream_error")
