"""The provider authoring kit: the `Provider` contract, the OpenAI-dialect base, and the helpers a provider
that translates another vendor's dialect uses to read the standard request (`ChatRequest`, a typed view) and
write the standard answer (`chat_completion`, `ChunkWriter` ...).

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
from hub_core.providers.multipart import FilePart, form_data
from hub_core.providers.openai_compat import OpenAICompatibleProvider, usage_from_openai
from hub_core.providers.request import (
    Audio,
    ChatRequest,
    File,
    Image,
    Inline,
    Message,
    OtherPart,
    Part,
    ResponseFormat,
    Text,
    Tool,
    ToolCall,
    ToolChoice,
    parse_inline,
    unsupported,
)
from hub_core.providers.sse import SSEParser
from hub_core.providers.translate import (
    ChunkWriter,
    assistant_message,
    chat_completion,
    embeddings_response,
    encoding_format,
    estimate_tokens,
    images_response,
    load_json_object,
    new_id,
    openai_usage,
    tool_call,
    upstream_message,
)
from hub_core.types import Credential, Route, UpstreamRequest, Usage

__all__ = [
    "API_KEY_SCHEMA",
    "IMAGE_EDIT",
    "INPUT_IMAGES",
    "INPUT_MASK",
    "Audio",
    "ChatRequest",
    "Chunk",
    "ChunkWriter",
    "Chunks",
    "Credential",
    "File",
    "FilePart",
    "HubError",
    "Image",
    "Inline",
    "InputImage",
    "Message",
    "NormalizedResponse",
    "Normalizer",
    "OpenAICompatibleProvider",
    "OtherPart",
    "Part",
    "Provider",
    "ResponseFormat",
    "Route",
    "SSEParser",
    "Text",
    "Tool",
    "ToolCall",
    "ToolChoice",
    "UpstreamRequest",
    "Usage",
    "assistant_message",
    "bad_request",
    "chat_completion",
    "embeddings_response",
    "encoding_format",
    "estimate_tokens",
    "form_data",
    "images_response",
    "is_edit",
    "load_json_object",
    "new_id",
    "openai_usage",
    "parse_inline",
    "tool_call",
    "unsupported",
    "upstream_auth_failed",
    "upstream_message",
    "upstream_payment_required",
    "usage_from_openai",
]
