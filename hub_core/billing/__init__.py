"""The public billing API for billing and payment plugins: the `BillingMode` and `PaymentProvider` contracts,
what they exchange with the hub, and the pricing helpers (credit units, rates, cost of a usage).

Importing this module loads only the contracts; the manager that runs them lives in
`hub_core.billing.manager` (internal).
"""

from hub_core.billing.contracts import (
    CREDITS_HEADER,
    PAYMENT_LINK_HEADER,
    BillingCall,
    BillingHost,
    BillingMode,
    Hold,
    PaymentEvent,
    PaymentProvider,
    not_enough,
)
from hub_core.billing.pricing import (
    UNIT,
    Rate,
    cost_of,
    credits_str,
    decimal_str,
    from_units,
    to_units,
)

__all__ = [
    "CREDITS_HEADER",
    "PAYMENT_LINK_HEADER",
    "UNIT",
    "BillingCall",
    "BillingHost",
    "BillingMode",
    "Hold",
    "PaymentEvent",
    "PaymentProvider",
    "Rate",
    "cost_of",
    "credits_str",
    "decimal_str",
    "from_units",
    "not_enough",
    "to_units",
]
