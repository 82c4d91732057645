"""Routing beyond ``provider/model``: bare model names rotated over every provider that serves them, failover
between attempts, provider cool-downs, credential health (disable and re-check) and per-model status.

See docs/routing.md. The default routing plugin (`hub_core.default_plugins.routing`) and the gateway's
`call_json` / `call_stream` are the two places that use it.
"""

from hub_core.routing.candidates import BareModelRouter, Candidate, served_id
from hub_core.routing.health import Outcome, ProviderHealth, classify, tag_upstream_error

__all__ = [
    "BareModelRouter",
    "Candidate",
    "Outcome",
    "ProviderHealth",
    "classify",
    "served_id",
    "tag_upstream_error",
]
