"""Google Gemini provider for AIGNE Hub: chat, embeddings and images over the Gemini API (``v1beta``).

Chat goes to ``models/{model}:generateContent`` (``:streamGenerateContent?alt=sse`` for streams) with the
key in ``x-goog-api-key``. OpenAI messages become Gemini ``contents`` (system prompts →
``systemInstruction``, images → ``inlineData``, tool calls → ``functionCall`` parts, tool results →
``functionResponse`` parts), sampling parameters become ``generationConfig``; answers come back as
``chat.completion`` objects and chunks with usage from ``usageMetadata`` (cached and thinking tokens
included). Embeddings use ``embedContent`` / ``batchEmbedContents``; images use Imagen's ``:predict`` or a
Gemini image model's ``generateContent``; videos are Veo long-running operations (``:predictLongRunning``,
polled and downloaded by the hub's video job runner).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from typing import Any

from hub_core import HubError, Provider, Route, UpstreamRequest, Usage, hookimpl
from hub_core.providers import (
    ChatRequest,
    Chunk,
    ChunkWriter,
    Image,
    Message,
    NormalizedResponse,
    Normalizer,
    SSEParser,
    Text,
    Tool,
    ToolChoice,
    assistant_message,
    bad_request,
    chat_completion,
    embeddings_response,
    encoding_format,
    estimate_tokens,
    images_response,
    load_json_object,
    new_id,
    tool_call,
    upstream_auth_failed,
)

#: Gemini 3 wants the thought signature of each function call back; calls replayed from history carry none,
#: so they get Google's documented placeholder that skips the check
SKIP_SIGNATURE = "skip_thought_signature_validator"
#: reasoning_effort → thinking budget (tokens), as Google's OpenAI compatibility layer maps it
THINKING_BUDGETS = {"none": 0, "minimal": 0, "low": 1024, "medium": 8192, "high": 24576}
FINISH_REASONS = {
    "STOP": "stop",
    "MAX_TOKENS": "length",
    "SAFETY": "content_filter",
    "RECITATION": "content_filter",
    "BLOCKLIST": "content_filter",
    "PROHIBITED_CONTENT": "content_filter",
    "SPII": "content_filter",
    "IMAGE_SAFETY": "content_filter",
}
#: what an image of a given width/height ratio is called by Imagen / Gemini image models
ASPECT_RATIOS = {
    "1:1": 1.0,
    "3:4": 0.75,
    "4:3": 4 / 3,
    "9:16": 9 / 16,
    "16:9": 16 / 9,
    "2:3": 2 / 3,
    "3:2": 1.5,
}
IMAGEN_RATIOS = ("1:1", "3:4", "4:3", "9:16", "16:9")
MIME_BY_EXTENSION = {
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "webp": "image/webp",
    "gif": "image/gif",
}

#: the clip length when the request names none (Veo's answers never repeat it; usage is counted in seconds)
DEFAULT_VIDEO_SECONDS = 8.0


def model_path(model: str) -> str:
    """``gemini-2.5-flash`` (or ``models/gemini-2.5-flash``) → ``models/gemini-2.5-flash``; tuned stay."""
    return model if model.startswith(("models/", "tunedModels/")) else f"models/{model}"


def is_imagen(model: str) -> bool:
    return model.rsplit("/", 1)[-1].startswith("imagen")


# --- chat requests -----------------------------------------------------------------------------------------


def image_part(image: Image) -> dict[str, Any]:
    if image.inline is not None:
        return {"inlineData": {"mimeType": image.inline.mime, "data": image.inline.data}}
    extension = image.url.split("?", 1)[0].rsplit(".", 1)[-1].lower()
    return {"fileData": {"mimeType": MIME_BY_EXTENSION.get(extension, "image/jpeg"), "fileUri": image.url}}


def user_parts(msg: Message) -> list[dict[str, Any]]:
    parts: list[dict[str, Any]] = []
    for part in msg.parts:
        if isinstance(part, Image):
            parts.append(image_part(part))
        elif isinstance(part, Text):
            parts.append({"text": part.text})
    return parts


def function_response(msg: Message) -> dict[str, Any]:
    """Gemini wants an object as a function's response; a JSON object result is sent as itself."""
    return msg.json_object or {"result": msg.text}


def gemini_contents(messages: list[Message]) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """(systemInstruction, contents) of an OpenAI conversation; consecutive tool results share one turn."""
    system: list[dict[str, Any]] = []
    contents: list[dict[str, Any]] = []
    for msg in messages:
        if msg.role == "system":
            if msg.text:
                system.append({"text": msg.text})
        elif msg.role == "user":
            contents.append({"role": "user", "parts": user_parts(msg) or [{"text": ""}]})
        elif msg.role == "assistant":
            parts: list[dict[str, Any]] = [{"text": msg.text}] if msg.text else []
            parts.extend(
                {
                    "functionCall": {"name": call.name, "args": call.arguments},
                    "thoughtSignature": SKIP_SIGNATURE,
                }
                for call in msg.tool_calls
            )
            contents.append({"role": "model", "parts": parts or [{"text": ""}]})
        else:
            name = msg.tool_name or "tool"
            part = {"functionResponse": {"name": name, "response": function_response(msg)}}
            if contents and contents[-1]["role"] == "user" and "functionResponse" in contents[-1]["parts"][0]:
                contents[-1]["parts"].append(part)
            else:
                contents.append({"role": "user", "parts": [part]})
    return ({"parts": system} if system else None), contents


def gemini_tools(tools: list[Tool]) -> list[dict[str, Any]]:
    declarations = []
    for tool in tools:
        decl: dict[str, Any] = {"name": tool.name, "description": tool.description}
        if tool.parameters:
            # full JSON Schema (additionalProperties, $defs ...), which Gemini's older `parameters` refuses
            decl["parametersJsonSchema"] = tool.parameters
        declarations.append(decl)
    return [{"functionDeclarations": declarations}] if declarations else []


def tool_config(choice: ToolChoice | None) -> dict[str, Any] | None:
    if choice is None or choice.mode == "auto":
        return None
    if choice.mode == "none":
        return {"functionCallingConfig": {"mode": "NONE"}}
    if choice.mode == "required":
        return {"functionCallingConfig": {"mode": "ANY"}}
    return {"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": [choice.name]}}


def generation_config(request: ChatRequest) -> dict[str, Any]:
    payload = request.raw
    config: dict[str, Any] = {}
    for ours, theirs in (
        ("temperature", "temperature"),
        ("top_p", "topP"),
        ("top_k", "topK"),
        ("seed", "seed"),
        ("presence_penalty", "presencePenalty"),
        ("frequency_penalty", "frequencyPenalty"),
    ):
        if payload.get(ours) is not None:
            config[theirs] = payload[ours]
    if request.max_tokens is not None:
        config["maxOutputTokens"] = request.max_tokens
    if request.stop:
        config["stopSequences"] = request.stop
    if isinstance(payload.get("n"), int) and payload["n"] > 1:
        config["candidateCount"] = payload["n"]
    if (fmt := request.response_format) is not None:
        config["responseMimeType"] = "application/json"
        if fmt.schema:
            config["responseJsonSchema"] = fmt.schema
    effort = payload.get("reasoning_effort")
    if effort in THINKING_BUDGETS:
        config["thinkingConfig"] = {"thinkingBudget": THINKING_BUDGETS[effort]}
    extra = payload.get("generationConfig") or payload.get("generation_config")
    if isinstance(extra, dict):  # Gemini's own settings sent by clients that know them win
        config.update(extra)
    return config


def chat_body(payload: dict[str, Any]) -> dict[str, Any]:
    request = ChatRequest.parse(payload)
    system, contents = gemini_contents(request.messages)
    body: dict[str, Any] = {"contents": contents}
    if system:
        body["systemInstruction"] = system
    if tools := gemini_tools(request.tools):
        body["tools"] = tools
        if config := tool_config(request.tool_choice):
            body["toolConfig"] = config
    if config := generation_config(request):
        body["generationConfig"] = config
    safety = payload.get("safetySettings") or payload.get("safety_settings")
    if isinstance(safety, list):
        body["safetySettings"] = safety
    if isinstance(payload.get("cachedContent"), str):
        body["cachedContent"] = payload["cachedContent"]
    return body


# --- answers -----------------------------------------------------------------------------------------------


def usage_of(meta: dict[str, Any] | None) -> Usage:
    """``usageMetadata`` in OpenAI's counting: the prompt includes cached and tool-use prompt tokens, the
    output includes thinking tokens (Gemini counts thoughts apart from candidates)."""
    meta = meta or {}
    thoughts = int(meta.get("thoughtsTokenCount") or 0)
    return Usage(
        input_tokens=int(meta.get("promptTokenCount") or 0) + int(meta.get("toolUsePromptTokenCount") or 0),
        output_tokens=int(meta.get("candidatesTokenCount") or 0) + thoughts,
        cached_input_tokens=int(meta.get("cachedContentTokenCount") or 0),
        reasoning_tokens=thoughts,
    )


def finish_reason_of(reason: str | None, saw_tool_calls: bool) -> str:
    if saw_tool_calls and reason in (None, "STOP"):
        return "tool_calls"
    return FINISH_REASONS.get(str(reason), "stop")


def split_parts(parts: list[dict[str, Any]]) -> tuple[str, str, list[dict[str, Any]]]:
    """(text, thought text, function calls) of a candidate's parts."""
    text, thoughts, calls = [], [], []
    for part in parts:
        if "functionCall" in part:
            calls.append(part["functionCall"])
        elif part.get("thought"):
            thoughts.append(part.get("text", ""))
        elif "text" in part:
            text.append(part["text"])
    return "".join(text), "".join(thoughts), calls


def openai_tool_call(call: dict[str, Any]) -> dict[str, Any]:
    return tool_call(str(call.get("id") or new_id("call")), call.get("name", ""), call.get("args") or {})


def blocked(data: dict[str, Any]) -> str | None:
    feedback = data.get("promptFeedback") or {}
    return feedback.get("blockReason")


def error_of(data: dict[str, Any]) -> HubError:
    err = data.get("error") or {}
    message = err.get("message") if isinstance(err, dict) else str(err)
    return HubError(502, "upstream_error", f"Gemini error during stream: {message}", type="upstream_error")


class GeminiChatNormalizer(Normalizer):
    def __init__(self, model: str) -> None:
        super().__init__()
        self.model = model
        self._sse = SSEParser()
        self._writer = ChunkWriter(model)
        self._calls: dict[int, int] = {}
        self._finished: set[int] = set()

    def parse(self, body: bytes) -> NormalizedResponse:
        data = load_json_object(body, "Gemini")
        self.usage, self.saw_usage = usage_of(data.get("usageMetadata")), True
        choices = []
        for cand in data.get("candidates") or []:
            text, thoughts, calls = split_parts((cand.get("content") or {}).get("parts") or [])
            message = assistant_message(text, [openai_tool_call(c) for c in calls], thoughts or None)
            choices.append(
                {"message": message, "finish_reason": finish_reason_of(cand.get("finishReason"), bool(calls))}
            )
        if (
            not choices
        ):  # the prompt itself was blocked (promptFeedback.blockReason): an empty, filtered answer
            choices = [{"message": assistant_message(""), "finish_reason": "content_filter"}]
        answer_id = f"chatcmpl-{data['responseId']}" if data.get("responseId") else None
        return NormalizedResponse(
            chat_completion(self.model, choices, self.usage, completion_id=answer_id), self.usage
        )

    def feed(self, data: bytes) -> list[Chunk]:
        return self._events(self._sse.feed(data))

    def finish(self) -> list[Chunk]:
        out = self._events(self._sse.finish())
        if self.pending_error is None and self.saw_usage:
            out.append(self._writer.usage(self.usage))
        return out

    def _events(self, events: list[tuple[str | None, bytes]]) -> list[Chunk]:
        out: list[Chunk] = []
        for _event, payload in events:
            if not payload:
                continue
            try:
                out.extend(self._chunks_of(load_json_object(payload, "Gemini")))
            except HubError as exc:
                if not out:
                    raise
                self.pending_error = exc  # deliver the chunks before the failure first
                break
        return out

    def _chunks_of(self, data: dict[str, Any]) -> list[Chunk]:
        if data.get("error"):
            raise error_of(data)
        if data.get("usageMetadata"):
            self.usage, self.saw_usage = usage_of(data["usageMetadata"]), True
        w, out = self._writer, []
        candidates = data.get("candidates") or []
        if not candidates and blocked(data):
            out.append(w.finish("content_filter"))
        for cand in candidates:
            index = int(cand.get("index") or 0)
            text, thoughts, calls = split_parts((cand.get("content") or {}).get("parts") or [])
            if thoughts:
                out.append(w.reasoning(thoughts, index))
            if text:
                out.append(w.text(text, index))
            for call in calls:
                position = self._calls.get(index, 0)
                converted = openai_tool_call(call)
                fn = converted["function"]
                out.append(w.tool_call(position, converted["id"], fn["name"], fn["arguments"], index))
                self._calls[index] = position + 1
            if cand.get("finishReason") and index not in self._finished:
                self._finished.add(index)
                out.append(w.finish(finish_reason_of(cand["finishReason"], index in self._calls), index))
        return out


class GeminiEmbeddingNormalizer(Normalizer):
    def __init__(self, model: str, encoding_format: str | None, estimate: int) -> None:
        super().__init__()
        self.model = model
        self.encoding_format = encoding_format
        self.estimate = estimate

    def parse(self, body: bytes) -> NormalizedResponse:
        data = load_json_object(body, "Gemini")
        if isinstance(data.get("embedding"), dict):
            vectors = [data["embedding"].get("values") or []]
        else:
            vectors = [e.get("values") or [] for e in data.get("embeddings") or []]
        if not vectors or not all(vectors):
            raise HubError(502, "upstream_malformed", "Gemini sent no embeddings", type="upstream_error")
        meta = data.get("usageMetadata") or {}
        self.usage = Usage(input_tokens=int(meta.get("promptTokenCount") or self.estimate))
        self.saw_usage = True
        return NormalizedResponse(
            embeddings_response(self.model, vectors, self.usage, self.encoding_format), self.usage
        )


class ImagenNormalizer(Normalizer):
    def parse(self, body: bytes) -> NormalizedResponse:
        data = load_json_object(body, "Imagen")
        predictions = data.get("predictions") or []
        items = [{"b64_json": p["bytesBase64Encoded"]} for p in predictions if p.get("bytesBase64Encoded")]
        if not items:
            reasons = [p.get("raiFilteredReason") for p in predictions if p.get("raiFilteredReason")]
            detail = reasons[0] if reasons else "no image was returned"
            raise HubError(400, "content_policy_violation", f"Imagen made no image: {detail}")
        self.usage, self.saw_usage = Usage(images=len(items)), True
        return NormalizedResponse(images_response(items), self.usage)


class GeminiImageNormalizer(Normalizer):
    """A Gemini image model's ``generateContent`` answer: ``inlineData`` parts are the images."""

    def parse(self, body: bytes) -> NormalizedResponse:
        data = load_json_object(body, "Gemini")
        items, texts = [], []
        for cand in data.get("candidates") or []:
            for part in (cand.get("content") or {}).get("parts") or []:
                inline = part.get("inlineData")
                if inline and inline.get("data"):
                    items.append({"b64_json": inline["data"]})
                elif part.get("text") and not part.get("thought"):
                    texts.append(part["text"])
        if not items:
            reason = blocked(data) or next(
                (c.get("finishReason") for c in data.get("candidates") or [] if c.get("finishReason")), None
            )
            raise HubError(
                400, "content_policy_violation", f"Gemini made no image: {reason or ' '.join(texts)}"
            )
        if texts:
            items[0]["revised_prompt"] = " ".join(texts)
        usage = usage_of(data.get("usageMetadata"))
        usage.images = len(items)
        self.usage, self.saw_usage = usage, True
        return NormalizedResponse(images_response(items), usage)


# --- images requests ---------------------------------------------------------------------------------------


def aspect_ratio(size: Any, allowed: tuple[str, ...] = tuple(ASPECT_RATIOS)) -> str | None:
    """``1792x1024`` → the nearest ratio the model knows (``16:9``); None when no size was given."""
    match = re.fullmatch(r"(\d+)x(\d+)", str(size or ""))
    if not match:
        return None
    ratio = int(match.group(1)) / max(1, int(match.group(2)))
    return min(allowed, key=lambda name: abs(math.log(ASPECT_RATIOS[name] / ratio)))


def imagen_body(payload: dict[str, Any]) -> dict[str, Any]:
    parameters: dict[str, Any] = {"sampleCount": int(payload.get("n") or 1)}
    if ratio := aspect_ratio(payload.get("size"), IMAGEN_RATIOS):
        parameters["aspectRatio"] = ratio
    for key in ("negativePrompt", "personGeneration", "imageSize", "outputMimeType"):
        if key in payload:
            parameters[key] = payload[key]
    return {"instances": [{"prompt": payload["prompt"]}], "parameters": parameters}


def gemini_image_body(payload: dict[str, Any]) -> dict[str, Any]:
    config: dict[str, Any] = {"responseModalities": ["TEXT", "IMAGE"]}
    if ratio := aspect_ratio(payload.get("size")):
        config["imageConfig"] = {"aspectRatio": ratio}
    return {
        "contents": [{"role": "user", "parts": [{"text": payload["prompt"]}]}],
        "generationConfig": config,
    }


# --- video (Veo) ----------------------------------------------------------------------------------------


def veo_body(payload: dict[str, Any]) -> dict[str, Any]:
    instance: dict[str, Any] = {"prompt": payload["prompt"]}
    reference = payload.get("input_reference")
    if isinstance(reference, dict) and reference.get("data"):
        mime = reference.get("mimeType") or "image/png"
        instance["image"] = {"bytesBase64Encoded": reference["data"], "mimeType": mime}
    parameters: dict[str, Any] = {}
    match = re.fullmatch(r"(\d+)x(\d+)", str(payload.get("size") or ""))
    if match:
        width, height = int(match.group(1)), int(match.group(2))
        parameters["aspectRatio"] = "16:9" if width >= height else "9:16"
        parameters["resolution"] = "1080p" if min(width, height) >= 1080 else "720p"
    if payload.get("seconds"):
        parameters["durationSeconds"] = int(float(payload["seconds"]))
    if payload.get("negative_prompt"):
        parameters["negativePrompt"] = payload["negative_prompt"]
    return {"instances": [instance], "parameters": parameters}


def veo_job(body: bytes) -> dict[str, Any]:
    """A Veo long-running operation as the hub's standard video job (OpenAI's ``video`` object)."""
    op = load_json_object(body, "Veo")
    name = op.get("name")
    if not isinstance(name, str):
        raise HubError(
            502, "upstream_malformed", "Veo sent an operation without a name", type="upstream_error"
        )
    if not op.get("done"):
        return {"id": name, "object": "video", "status": "in_progress"}
    if op.get("error"):
        message = (op["error"] or {}).get("message") or "the operation failed"
        return {"id": name, "object": "video", "status": "failed", "error": {"message": message}}
    result = (op.get("response") or {}).get("generateVideoResponse") or {}
    samples = result.get("generatedSamples") or []
    uri = ((samples[0] if samples else {}).get("video") or {}).get("uri")
    if not uri:
        reasons = result.get("raiMediaFilteredReasons") or ["no video was returned"]
        return {"id": name, "object": "video", "status": "failed", "error": {"message": "; ".join(reasons)}}
    return {"id": name, "object": "video", "status": "completed", "video_uri": uri}


class VeoNormalizer(Normalizer):
    """The answer to ``:predictLongRunning``: an operation to poll; usage is the clip length asked for."""

    def __init__(self, model: str, seconds: float) -> None:
        super().__init__()
        self.model = model
        self.seconds = seconds

    def parse(self, body: bytes) -> NormalizedResponse:
        job = {**veo_job(body), "model": self.model, "seconds": str(int(self.seconds))}
        self.usage, self.saw_usage = Usage(seconds=self.seconds), True
        return NormalizedResponse(job, self.usage)


# --- the provider ------------------------------------------------------------------------------------------


class GoogleProvider(Provider):
    name = "google"
    display_name = "Google Gemini"
    default_base_url = "https://generativelanguage.googleapis.com/v1beta/"
    capabilities = frozenset({"chat", "embedding", "image", "video"})
    env_credentials = {"api_key": "GEMINI_API_KEY"}
    test_model = "gemini-2.5-flash"
    known_models = {
        "chat": ("gemini-2.5-flash", "gemini-2.5-pro", "gemini-2.5-flash-lite", "gemini-2.0-flash"),
        "embedding": ("gemini-embedding-001", "text-embedding-004"),
        "image": ("imagen-4.0-generate-001", "imagen-4.0-fast-generate-001", "gemini-2.5-flash-image"),
        "video": ("veo-3.0-generate-001", "veo-3.0-fast-generate-001", "veo-2.0-generate-001"),
    }

    def url(self, route: Route, model: str, method: str) -> str:
        return f"{route.base_url.rstrip('/')}/{model_path(model)}:{method}"

    def _post(self, url: str, body: dict[str, Any], params: dict[str, str] | None = None) -> UpstreamRequest:
        return UpstreamRequest(
            "POST", url, headers={"Content-Type": "application/json"}, json=body, params=params or {}
        )

    def build_chat(self, payload: dict[str, Any], route: Route, stream: bool) -> UpstreamRequest:
        if stream:
            return self._post(
                self.url(route, route.model, "streamGenerateContent"), chat_body(payload), {"alt": "sse"}
            )
        return self._post(self.url(route, route.model, "generateContent"), chat_body(payload))

    def build_embedding(self, payload: dict[str, Any], route: Route, stream: bool) -> UpstreamRequest:
        inputs = payload.get("input")
        texts = [inputs] if isinstance(inputs, str) else inputs
        if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
            raise bad_request(
                "Gemini embeds text only: input must be a string or an array of strings", param="input"
            )
        extra: dict[str, Any] = {}
        if payload.get("dimensions"):
            extra["outputDimensionality"] = payload["dimensions"]
        if payload.get("task_type") or payload.get("taskType"):
            extra["taskType"] = payload.get("task_type") or payload.get("taskType")
        if isinstance(inputs, str):
            body = {"content": {"parts": [{"text": inputs}]}, **extra}
            return self._post(self.url(route, route.model, "embedContent"), body)
        requests = [
            {"model": model_path(route.model), "content": {"parts": [{"text": t}]}, **extra} for t in texts
        ]
        return self._post(self.url(route, route.model, "batchEmbedContents"), {"requests": requests})

    def build_image(self, payload: dict[str, Any], route: Route, stream: bool) -> UpstreamRequest:
        if is_imagen(route.model):
            return self._post(self.url(route, route.model, "predict"), imagen_body(payload))
        return self._post(self.url(route, route.model, "generateContent"), gemini_image_body(payload))

    def build_video(self, payload: dict[str, Any], route: Route, stream: bool) -> UpstreamRequest:
        return self._post(self.url(route, route.model, "predictLongRunning"), veo_body(payload))

    def video_job(self, body: bytes) -> dict[str, Any]:
        return veo_job(body)

    def video_poll_request(self, route: Route, job: dict[str, Any]) -> UpstreamRequest:
        return UpstreamRequest("GET", f"{route.base_url.rstrip('/')}/{job['id']}")

    def video_content_request(self, route: Route, job: dict[str, Any]) -> UpstreamRequest:
        return UpstreamRequest("GET", str(job["video_uri"]))

    def apply_credential(self, upstream: UpstreamRequest, credential: Any) -> None:
        if credential is not None and credential.api_key:
            upstream.headers["x-goog-api-key"] = credential.api_key

    def normalizer(self, kind: str, stream: bool, route: Route, payload: dict[str, Any]) -> Normalizer:
        if kind == "chat":
            return GeminiChatNormalizer(route.model)
        if kind == "embedding":
            # the Gemini API reports no usage for embeddings: estimate it from the input
            inputs = payload.get("input")
            texts = [inputs] if isinstance(inputs, str) else inputs if isinstance(inputs, list) else []
            estimate = sum(estimate_tokens(t) for t in texts if isinstance(t, str))
            return GeminiEmbeddingNormalizer(route.model, encoding_format(payload), estimate)
        if kind == "image":
            return ImagenNormalizer() if is_imagen(route.model) else GeminiImageNormalizer()
        if kind == "video":
            return VeoNormalizer(route.model, float(payload.get("seconds") or DEFAULT_VIDEO_SECONDS))
        return super().normalizer(kind, stream, route, payload)

    def map_error(self, status: int, body: bytes, headers: dict[str, str]) -> HubError:
        try:
            err = json.loads(body).get("error") or {}
        except (ValueError, AttributeError):
            err = {}
        if not isinstance(err, dict):
            err = {}
        message = str(err.get("message") or "")
        details = err.get("details") or []
        reasons = {d.get("reason") for d in details if isinstance(d, dict)}
        if status == 400 and ("API_KEY_INVALID" in reasons or "API key not valid" in message):
            return upstream_auth_failed(self.display_name, message, status)
        if status == 429:
            error = super().map_error(status, body, headers)
            delay = next(
                (d.get("retryDelay") for d in details if isinstance(d, dict) and d.get("retryDelay")), None
            )
            if delay and "Retry-After" not in error.headers:
                seconds = math.ceil(float(str(delay).rstrip("s") or 0))
                error.headers["Retry-After"] = str(seconds)
            return error
        return super().map_error(status, body, headers)

    def models_request(self, route: Route) -> UpstreamRequest:
        return UpstreamRequest("GET", f"{route.base_url.rstrip('/')}/models", params={"pageSize": "1000"})

    def parse_models(self, body: bytes) -> list[str]:
        data = load_json_object(body, "Gemini")
        names = [str(m.get("name", "")) for m in data.get("models") or [] if isinstance(m, dict)]
        return sorted(n.removeprefix("models/") for n in names if n)


@hookimpl
def register_providers(register: Callable[[Provider], None]) -> None:
    register(GoogleProvider())
