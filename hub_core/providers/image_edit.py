"""Image editing in the hub's standard image request, and OpenAI's ``POST /images/edits`` built from it.

A standard image request (OpenAI's ``/images/generations`` body) that carries input images under
`INPUT_IMAGES` (and optionally a mask under `INPUT_MASK`) asks for an edit. The images are decoded bytes,
never JSON: a provider that edits says so with ``image_edit`` in its capabilities and turns them into its own
request; `Provider.build_request` refuses the call (400) for every other provider, so no provider silently
draws a new picture instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hub_core.providers.multipart import FilePart, form_data
from hub_core.types import UpstreamRequest

#: payload keys the dialects fill; hub-internal, never sent upstream as they are
INPUT_IMAGES = "input_images"
INPUT_MASK = "input_mask"
#: the capability of a provider that edits images
IMAGE_EDIT = "image_edit"
#: GPT Image models take up to 16 input images; the hub accepts no more than that
MAX_INPUT_IMAGES = 16
#: the fields of OpenAI's edits form besides the files (``style`` exists only for generations)
EDIT_FIELDS = (
    "model",
    "prompt",
    "n",
    "size",
    "response_format",
    "quality",
    "background",
    "output_format",
    "output_compression",
    "input_fidelity",
    "user",
)


@dataclass(frozen=True, slots=True)
class InputImage:
    data: bytes
    mime: str
    filename: str


def is_edit(payload: dict[str, Any]) -> bool:
    return bool(payload.get(INPUT_IMAGES))


def edits_request(url: str, headers: dict[str, str], payload: dict[str, Any]) -> UpstreamRequest:
    """OpenAI's ``/images/edits`` multipart call: one image as ``image``, several as repeated ``image[]``
    (what the official SDKs send for GPT Image models), the optional ``mask``, and the form fields."""
    fields = [(k, str(payload[k])) for k in EDIT_FIELDS if payload.get(k) not in (None, "")]
    images: list[InputImage] = payload[INPUT_IMAGES]
    name = "image" if len(images) == 1 else "image[]"
    files: list[FilePart] = [(name, img.filename, img.mime, img.data) for img in images]
    mask = payload.get(INPUT_MASK)
    if isinstance(mask, InputImage):
        files.append(("mask", mask.filename, mask.mime, mask.data))
    body, content_type = form_data(fields, files)
    return UpstreamRequest("POST", url, headers={**headers, "Content-Type": content_type}, body=body)
