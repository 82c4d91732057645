"""The provider authoring kit: the `Provider` contract, the OpenAI-dialect base, and the helpers a provider
that translates another vendor's dialect uses to read the standard request and write the standard answer.

Provider plugins import from here (and from `hub_core`); the modules behind it may move.
"""

from hub_core.errors import HubError, bad_request, upstream_auth_failed
from hub_core.providers.base import (
    API_KEY_SCHEMA,
    Chunk,
    Chunks,
    NormalizedResponse,
    Normalizer,
    Provider,
    upstream_payment_required,
)
from hub_core.providers.image_edit import IMAGE_EDIT, INPUT_IMAGES, INPUT_MASK, InputImage, is_edit
from hub_core.providers.openai_compat import OpenAICompatibleProvider, usage_from_openai
from hub_core.providers.sse import SSEParser
from hub_core.providers.translate import (
    ChunkWriter,
    assistant_message,
    chat_completion,
    content_parts,
    embeddings_response,
    encoding_format,
    estimate_tokens,
    image_url_of,
    images_response,
    load_json_object,
    max_tokens_of,
    new_id,
    openai_usage,
    parse_data_url,
    stop_list,
    text_of,
    tool_arguments,
    tool_call,
    tool_names_by_id,
    upstream_message,
)
from hub_core.types import Credential, Route, UpstreamRequest, Usage

__all__ = [
    "API_KEY_SCHEMA",
    "IMAGE_EDIT",
    "INPUT_IMAGES",
    "INPUT_MASK",
    "Chunk",
    "ChunkWriter",
    "Chunks",
    "Credential",
    "HubError",
    "InputImage",
    "NormalizedResponse",
    "Normalizer",
    "OpenAICompatibleProvider",
    "Provider",
    "Route",
    "SSEParser",
    "UpstreamRequest",
    "Usage",
    "assistant_message",
    "bad_request",
    "chat_completion",
    "content_parts",
    "embeddings_response",
    "encoding_format",
    "estimate_tokens",
    "image_url_of",
    "images_response",
    "is_edit",
    "load_json_object",
    "max_tokens_of",
    "new_id",
    "openai_usage",
    "parse_data_url",
    "stop_list",
    "text_of",
    "tool_arguments",
    "tool_call",
    "tool_names_by_id",
    "upstream_auth_failed",
    "upstream_message",
    "upstream_payment_required",
    "usage_from_openai",
]
