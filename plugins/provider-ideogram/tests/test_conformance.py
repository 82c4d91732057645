"""The shared image conformance matrix against the fake Ideogram API, with the official openai SDK."""

from __future__ import annotations

from hub_core.testing import ImageConformance, ProviderCase


class TestIdeogramConformance(ImageConformance):
    case = ProviderCase(
        "ideogram",
        image_model="ideogram-v3",
        image_scenario_in_prompt=True,  # Ideogram requests carry no model: the fake reads the scenario there
        retry_after=None,  # Ideogram sends no Retry-After with its 429
        capabilities=frozenset({"image"}),
        listed_model="ideogram-v3-turbo",
    )
