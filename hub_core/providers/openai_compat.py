"""Base for vendors that speak the OpenAI HTTP dialect (OpenAI, DeepSeek, xAI, OpenRouter, Poe, Doubao ...).

The hub's standard format *is* this dialect, so requests go out nearly unchanged and answers come back byte
for byte; the normalizer only reads the usage numbers. A vendor subclass sets its name, base URL and
quirks (extra headers, model id forms, reasoning fields) and is done.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any, ClassVar

from hub_core.errors import HubError
from hub_core.infra import jsonio
from hub_core.providers.base import Chunk, Chunks, NormalizedResponse, Normalizer, Provider
from hub_core.providers.image_edit import edits_request, is_edit
from hub_core.providers.openai_video import create_request, job_of, seconds_of
from hub_core.providers.sse import SSEParser, plain_payloads
from hub_core.types import Route, UpstreamRequest, Usage

DONE = b"[DONE]"
DONE_EVENT = b"data: [DONE]\n\n"
UsageReader = Callable[[dict[str, Any] | None], Usage]


def _all_objects(data: bytes, payloads: list[bytes]) -> bool:
    """Whether every payload of a piece of plain events (but ``[DONE]`` and empty ones) looks like a JSON
    object, counted over the whole piece; when not (or a payload's text looks like an event), the piece is
    read event by event, where each payload is checked on its own."""
    count = len(payloads) - payloads.count(DONE) - payloads.count(b"")
    return data.count(b"data: {") == count == data.count(b"}\n\n")


def usage_from_openai(data: dict[str, Any] | None) -> Usage:
    """Read an OpenAI-style usage object (chat, embeddings or images) into a `Usage`."""
    if not data:
        return Usage()
    prompt_details = data.get("prompt_tokens_details") or data.get("input_tokens_details") or {}
    completion_details = data.get("completion_tokens_details") or data.get("output_tokens_details") or {}
    return Usage(
        input_tokens=int(data.get("prompt_tokens", data.get("input_tokens", 0)) or 0),
        output_tokens=int(data.get("completion_tokens", data.get("output_tokens", 0)) or 0),
        cached_input_tokens=int(prompt_details.get("cached_tokens", 0) or 0),
        cache_write_tokens=int(prompt_details.get("cache_write_tokens", 0) or 0),
        reasoning_tokens=int(completion_details.get("reasoning_tokens", 0) or 0),
    )


class PlainChunks(Chunks):
    """The chunks of a piece of plain events (`OpenAIChatNormalizer._plain_chunks`), made into `Chunk`
    objects the first time they are read: iterated, indexed or compared. Their number, truthiness, `sse` and
    `content` are known without making them, and that is all the relay and a renderer of the standard
    dialect ask for."""

    def __init__(self, payloads: list[bytes], usage_chunks: dict[int, Chunk], count: int) -> None:
        super().__init__()
        self._pending: tuple[list[bytes], dict[int, Chunk]] | None = (payloads, usage_chunks)
        self._count = count

    def _made(self) -> PlainChunks:
        if self._pending is not None:
            payloads, usage_chunks = self._pending
            self._pending = None
            self.extend(
                usage_chunks.get(i) or Chunk(None, payload)
                for i, payload in enumerate(payloads)
                if payload and payload != DONE
            )
        return self

    def __len__(self) -> int:
        return self._count

    def __bool__(self) -> bool:
        return self._count > 0

    def __iter__(self) -> Iterator[Chunk]:
        return list.__iter__(self._made())

    def __reversed__(self) -> Iterator[Chunk]:
        return list.__reversed__(self._made())

    def __getitem__(self, index: Any) -> Any:
        return list.__getitem__(self._made(), index)

    def __contains__(self, item: object) -> bool:
        return list.__contains__(self._made(), item)

    def __eq__(self, other: object) -> bool:
        return list.__eq__(self._made(), other)

    __hash__ = None  # type: ignore[assignment]  # as list's

    def __repr__(self) -> str:
        return list.__repr__(self._made())


class OpenAIChatNormalizer(Normalizer):
    """Chat Completions answers, JSON or SSE; passes chunks through as raw bytes."""

    def __init__(self, read_usage: UsageReader = usage_from_openai) -> None:
        super().__init__()
        self._sse = SSEParser()
        self.read_usage = read_usage
        self._saw_event = False
        self._finished = False  # saw [DONE] or a finish_reason: the upstream ended the answer itself

    def parse(self, body: bytes) -> NormalizedResponse:
        data = _load_object(body)
        self.usage = self.read_usage(data.get("usage"))
        self.saw_usage = bool(data.get("usage"))
        return NormalizedResponse(data, self.usage, raw=body)

    def feed(self, data: bytes) -> list[Chunk]:
        # (`find`, not `in`: for bytes, `in` first tries the pattern as an int and builds an error to drop)
        if data.find(b'"error') < 0 and self._sse.idle:
            payloads = plain_payloads(data)
            if payloads is not None and _all_objects(data, payloads):
                return self._plain_chunks(data, payloads)
        return self._chunks(self._sse.feed(data))

    def _plain_chunks(self, data: bytes, payloads: list[bytes]) -> list[Chunk]:
        """`_chunks` for a piece of plain ``data:`` events without any error (a piece often holds a whole
        answer), read with a few scans of the whole piece instead of event by event. Only the events with a
        usage value are parsed here (for the usage numbers); the chunk objects are made when someone reads
        them (`PlainChunks`), which a renderer of the standard dialect does not: it sends `Chunks.sse`, the
        piece's own bytes, kept when the chunks are all of it but a final ``[DONE]``."""
        self._saw_event = True
        if not self._finished and (DONE in payloads or data.find(b'"finish_reason":"') >= 0):
            self._finished = True
        count = len(payloads) - payloads.count(DONE) - payloads.count(b"")
        usage_chunks: dict[int, Chunk] = {}
        # OpenAI ends every chunk with "usage":null when usage is asked for; any other "usage" in the piece
        # may be a usage value: look only at the events that hold one, from the end (the usage chunk is last)
        extra = data.count(b'"usage"') - data.count(b',"usage":null}\n\n')
        if extra:
            candidates = []
            for i in range(len(payloads) - 1, -1, -1):
                payload = payloads[i]
                found = payload.count(b'"usage"') - payload.endswith(b',"usage":null}')
                if found:
                    candidates.append(i)
                    extra -= found
                    if not extra:
                        break
            for i in reversed(candidates):  # in order: the last usage value wins, as event by event
                if _usage_in(payloads[i]):
                    usage_chunks[i] = self._usage_chunk(payloads[i])
        out = PlainChunks(payloads, usage_chunks, count)
        out.content = count - sum(chunk.usage_only for chunk in usage_chunks.values())
        if count == len(payloads):
            out.sse = data
        elif count == len(payloads) - 1 and payloads[-1] == DONE:
            out.sse = data[: -len(DONE_EVENT)]
        return out

    def finish(self) -> list[Chunk]:
        out = self._chunks(self._sse.finish())
        if not self._saw_event:
            # a 200 whose body is not SSE at all (or empty) must not look like an empty, successful answer
            raise HubError(
                502, "upstream_malformed", "Upstream sent a stream without any events", type="upstream_error"
            )
        if not self._finished:
            # the connection closed mid-answer; a client must not mistake a cut-off answer for a whole one
            self.pending_error = HubError(
                502,
                "upstream_truncated",
                "Upstream stream ended before the answer was complete",
                type="upstream_error",
            )
        return out

    def _chunks(self, events: list[tuple[str | None, bytes]]) -> list[Chunk]:
        self._saw_event = self._saw_event or bool(events)
        out: list[Chunk] = []
        for event, payload in events:
            if payload == DONE or not payload:
                self._finished = self._finished or payload == DONE
                continue
            if not self._finished and b'"finish_reason":"' in payload:
                self._finished = True
            if payload[:1] != b"{" or payload.rstrip()[-1:] != b"}":
                # not a chunk at all (junk, an HTML page cut into events): passed on, it would be billed
                err = HubError(
                    502,
                    "upstream_malformed",
                    "Upstream sent a stream event that is not a JSON object",
                    type="upstream_error",
                    detail=f"Upstream sent a stream event that is not a JSON object: {payload[:200]!r}",
                )
                if not out:
                    raise err
                self.pending_error = err
                break
            if event == "error" or payload.startswith(b'{"error"'):
                if not out:
                    raise _stream_error(payload)
                self.pending_error = _stream_error(payload)  # deliver the chunks before it first
                break
            if b'"error":' in payload and _in_band_error(payload):
                # vendors such as OpenRouter report a mid-stream failure as a chunk with an "error" member
                if not out:
                    raise _stream_error(payload)
                self.pending_error = _stream_error(payload)
                break
            if b'"usage"' in payload and _has_usage(payload):
                out.append(self._usage_chunk(payload))
            else:
                out.append(Chunk(raw=payload))
        return out

    def _usage_chunk(self, payload: bytes) -> Chunk:
        parsed = _load_object(payload)
        usage = parsed.get("usage")
        if usage:
            self.usage = self.read_usage(usage)
            self.saw_usage = True
        return Chunk(parsed, payload, usage_only=bool(usage) and not parsed.get("choices"))


class OpenAIEmbeddingNormalizer(Normalizer):
    def __init__(self, read_usage: UsageReader = usage_from_openai) -> None:
        super().__init__()
        self.read_usage = read_usage

    def parse(self, body: bytes) -> NormalizedResponse:
        data = _load_object(body)
        self.usage = self.read_usage(data.get("usage"))
        self.saw_usage = bool(data.get("usage"))
        return NormalizedResponse(data, self.usage, raw=body)


class OpenAIImageNormalizer(Normalizer):
    def __init__(self, read_usage: UsageReader = usage_from_openai) -> None:
        super().__init__()
        self.read_usage = read_usage

    def parse(self, body: bytes) -> NormalizedResponse:
        data = _load_object(body)
        usage = self.read_usage(data.get("usage"))
        usage.images = len(data.get("data") or [])
        self.usage, self.saw_usage = usage, True
        return NormalizedResponse(data, usage, raw=body)


class OpenAIVideoNormalizer(Normalizer):
    """Reads a ``video`` job object (create and poll answers alike); usage is the clip's length."""

    def parse(self, body: bytes) -> NormalizedResponse:
        job = job_of(body)
        self.usage, self.saw_usage = Usage(seconds=seconds_of(job)), True
        return NormalizedResponse(job, self.usage, raw=body)


class OpenAICompatibleProvider(Provider):
    """A provider whose upstream speaks the OpenAI REST dialect."""

    capabilities = frozenset({"chat", "embedding", "image"})
    #: headers every upstream request carries (vendor attribution headers and the like)
    extra_headers: ClassVar[dict[str, str]] = {}
    #: ask the upstream for usage in streams (``stream_options.include_usage``)
    stream_usage_option: ClassVar[bool] = True

    def url(self, route: Route, path: str) -> str:
        return route.base_url.rstrip("/") + path

    def request_headers(self, route: Route) -> dict[str, str]:
        """Headers every upstream request carries; override for headers that depend on the provider record."""
        return dict(self.extra_headers)

    def read_usage(self, data: dict[str, Any] | None) -> Usage:
        """Read the vendor's usage object; override for vendors with their own usage fields."""
        return usage_from_openai(data)

    def _request(self, route: Route, path: str, body: dict[str, Any]) -> UpstreamRequest:
        headers = {"Content-Type": "application/json", **self.request_headers(route)}
        return UpstreamRequest("POST", self.url(route, path), headers=headers, json=body)

    def build_chat(self, payload: dict[str, Any], route: Route, stream: bool) -> UpstreamRequest:
        body = {**payload, "model": self.upstream_model(route)}
        if stream:
            body["stream"] = True
            if self.stream_usage_option:
                body["stream_options"] = {**(payload.get("stream_options") or {}), "include_usage": True}
        else:
            body.pop("stream", None)
            body.pop("stream_options", None)
        return self._request(route, "/chat/completions", body)

    def build_embedding(self, payload: dict[str, Any], route: Route, stream: bool) -> UpstreamRequest:
        return self._request(route, "/embeddings", {**payload, "model": self.upstream_model(route)})

    def build_image(self, payload: dict[str, Any], route: Route, stream: bool) -> UpstreamRequest:
        if is_edit(payload):
            return self._image_edit_request(payload, route)
        return self._request(route, "/images/generations", {**payload, "model": self.upstream_model(route)})

    def _image_edit_request(self, payload: dict[str, Any], route: Route) -> UpstreamRequest:
        """OpenAI's ``/images/edits`` (multipart); `build_request` only gets here for vendors that list
        ``image_edit`` in `capabilities`."""
        body = {**payload, "model": self.upstream_model(route)}
        return edits_request(self.url(route, "/images/edits"), self.request_headers(route), body)

    def build_video(self, payload: dict[str, Any], route: Route, stream: bool) -> UpstreamRequest:
        """OpenAI's Videos API; only vendors that list ``video`` in `capabilities` are asked."""
        body = {**payload, "model": self.upstream_model(route)}
        return create_request(self.url(route, "/videos"), self.request_headers(route), body)

    def video_poll_request(self, route: Route, job: dict[str, Any]) -> UpstreamRequest:
        return UpstreamRequest(
            "GET", self.url(route, f"/videos/{job['id']}"), headers=self.request_headers(route)
        )

    def video_content_request(self, route: Route, job: dict[str, Any]) -> UpstreamRequest:
        url = self.url(route, f"/videos/{job['id']}/content")
        return UpstreamRequest("GET", url, headers=self.request_headers(route))

    def upstream_model(self, route: Route) -> str:
        """The model id the vendor expects; override for vendors with their own id forms."""
        return route.model

    def normalizer(self, kind: str, stream: bool, route: Route, payload: dict[str, Any]) -> Normalizer:
        if kind == "chat":
            return OpenAIChatNormalizer(self.read_usage)
        if kind == "embedding":
            return OpenAIEmbeddingNormalizer(self.read_usage)
        if kind == "image":
            return OpenAIImageNormalizer(self.read_usage)
        if kind == "video":
            return OpenAIVideoNormalizer()
        return super().normalizer(kind, stream, route, payload)

    def models_request(self, route: Route) -> UpstreamRequest:
        return UpstreamRequest("GET", self.url(route, "/models"), headers=self.request_headers(route))

    def parse_models(self, body: bytes) -> list[str]:
        data = _load_object(body)
        return sorted(str(m["id"]) for m in data.get("data", []) if isinstance(m, dict) and "id" in m)


def _load_object(body: bytes) -> dict[str, Any]:
    try:
        data = jsonio.loads(body)
    except ValueError as exc:
        raise HubError(
            502, "upstream_malformed", f"Upstream sent malformed JSON: {exc}", type="upstream_error"
        ) from exc
    if not isinstance(data, dict):
        raise HubError(
            502, "upstream_malformed", "Upstream sent JSON that is not an object", type="upstream_error"
        )
    return data


def _usage_in(payload: bytes) -> bool:
    """`_has_usage`, answered without its scan when the only "usage" is exactly ``"usage":null``."""
    count = payload.count(b'"usage"')
    if count == 0 or (count == 1 and payload.find(b'"usage":null') >= 0):
        return False
    return _has_usage(payload)


def _has_usage(payload: bytes) -> bool:
    """Whether a chunk carries a usage value. With ``include_usage`` OpenAI puts ``"usage":null`` on every
    chunk; parsing each one only to find null cost more than the rest of the relay, so those stay raw."""
    start = payload.find(b'"usage"')
    while start >= 0:
        if not payload.startswith(b'"usage":null', start):  # the usual form, checked without slicing
            value = payload[start + 7 : start + 24].lstrip()
            if not value.startswith(b":") or not value[1:].lstrip().startswith(b"null"):
                return True
        start = payload.find(b'"usage"', start + 7)
    return False


def _in_band_error(payload: bytes) -> bool:
    try:
        data = json.loads(payload)
    except ValueError:
        return False
    return isinstance(data, dict) and bool(data.get("error"))


def _stream_error(payload: bytes) -> HubError:
    try:
        err = json.loads(payload).get("error") or {}
    except (ValueError, AttributeError):
        err = {}
    message = err.get("message") if isinstance(err, dict) else str(err)
    return HubError(
        502, "upstream_error", f"Upstream error during stream: {message or 'unknown'}", type="upstream_error"
    )
