"""Self-hosted billing mode for AIGNE Hub: nobody pays, every call is still metered and logged.

Optionally only models that have a rate may be called, which lets the admin publish a curated model list.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from hub_core import HubError, hookimpl
from hub_core.billing import BillingCall, BillingMode, Hold


class FreeMode(BillingMode):
    name = "free"
    display_name = "Self-hosted"
    description = "No balances and no charges; every call is metered in the usage log and analytics."
    charges = False
    settings_schema = {
        "type": "object",
        "properties": {
            "only_rated_models": {
                "type": "boolean",
                "title": "Only models that have a rate",
                "description": "Refuse models without a rate in the model-rate table.",
            }
        },
    }
    defaults = {"only_rated_models": False}

    def validate_settings(self, changes: Mapping[str, Any]) -> dict[str, Any]:
        clean = super().validate_settings(changes)
        if "only_rated_models" in clean and not isinstance(clean["only_rated_models"], bool):
            raise HubError(400, "invalid_setting", "only_rated_models must be true or false")
        return clean

    def requires_rate(self) -> bool:
        return bool(self.settings["only_rated_models"])

    async def admit(self, call: BillingCall) -> Hold | None:
        if self.settings["only_rated_models"] and call.rate is None:
            raise HubError(
                400,
                "unsupported_model",
                f"Unsupported model {call.provider}/{call.model}: this hub only serves models with a rate",
                param="model",
            )
        return None  # nothing to reserve or charge: the core's usage log meters the call


@hookimpl
def register_billing_modes(register: Callable[[BillingMode], None]) -> None:
    register(FreeMode())
