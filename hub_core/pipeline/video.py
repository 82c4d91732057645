"""Video generation as one call: create the upstream job, poll it until it is done, download the clip.

It runs as the `then` step of `Gateway.call_json`, so the whole job is one routed call with one usage record
(its seconds), the same hooks for every request, and every request's errors mapped by the provider.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

from hub_core.errors import HubError
from hub_core.providers.base import NormalizedResponse
from hub_core.providers.openai_video import PENDING, seconds_of

if TYPE_CHECKING:
    from hub_core.pipeline.gateway import CallContext, Gateway
    from hub_core.types import Route

FIRST_POLL = 0.25  # seconds; doubles up to MAX_POLL, so short fakes finish fast and long renders poll gently
MAX_POLL = 5.0
MAX_WAIT = 1800.0


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
        provider = route.provider
        delay, deadline = FIRST_POLL, time.monotonic() + self.max_wait
        while job.get("status") in PENDING:
            if time.monotonic() > deadline:
                raise HubError(504, "upstream_timeout", f"Video job {job.get('id')} did not finish in time")
            await asyncio.sleep(delay)
            delay = min(delay * 2, MAX_POLL)
            body = await self.gateway.follow_up(self.ctx, route, provider.video_poll_request(route, job))
            job = provider.video_job(body)
        if job.get("status") != "completed":
            raise failed(job)
        self.content = await self.gateway.follow_up(
            self.ctx, route, provider.video_content_request(route, job)
        )
        self.job = job
        self.ctx.record.usage.seconds = seconds_of(job) or self.ctx.record.usage.seconds
        self.ctx.record.extra["video_id"] = job.get("id")
        return NormalizedResponse(job, self.ctx.record.usage)


def failed(job: dict[str, Any]) -> HubError:
    error = job.get("error") if isinstance(job.get("error"), dict) else {}
    message = error.get("message") or f"status {job.get('status')}"
    return HubError(502, "video_failed", f"Video generation failed: {message}", type="upstream_error")
