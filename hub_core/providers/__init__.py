"""Provider contracts: the `Provider` base every adapter subclasses, and the OpenAI-dialect base."""

from hub_core.providers.base import Chunk, NormalizedResponse, Normalizer, Provider
from hub_core.providers.openai_compat import OpenAICompatibleProvider

__all__ = ["Chunk", "NormalizedResponse", "Normalizer", "OpenAICompatibleProvider", "Provider"]
