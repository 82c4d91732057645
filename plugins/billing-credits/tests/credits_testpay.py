"""A test-only payment plugin: verifies HMAC-signed webhook events (Stripe-style ``t=<unix>,v1=<hex>``
signatures over ``"<t>." + body``) and asks the credits mode to credit the paying user."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable, Mapping
from decimal import Decimal

from hub_core import HubError, hookimpl
from hub_core.billing import PaymentEvent, PaymentProvider

SECRET = "whsec_test_secret"
TOLERANCE = 300


def sign(body: bytes, secret: str = SECRET, timestamp: int | None = None) -> str:
    t = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={digest}"


class TestPay(PaymentProvider):
    name = "testpay"
    display_name = "Test Pay"

    def __init__(self, secret: str = SECRET) -> None:
        self.secret = secret

    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> PaymentEvent | None:
        header = headers.get("x-testpay-signature") or ""
        parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
        try:
            t = int(parts["t"])
        except (KeyError, ValueError) as exc:
            raise HubError(400, "invalid_signature", "Missing or malformed signature") from exc
        if abs(time.time() - t) > TOLERANCE:
            raise HubError(400, "invalid_signature", "Signature timestamp outside the tolerance")
        expected = hmac.new(self.secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, parts.get("v1", "")):
            raise HubError(400, "invalid_signature", "Signature does not match")
        event = json.loads(body)
        if event.get("type") != "payment.succeeded":
            return None
        data = event["data"]
        return PaymentEvent(
            event_id=str(event["id"]),
            credits=Decimal(str(data["credits"])),
            user_did=data.get("userDid"),
            reason="purchase via testpay",
        )

    def checkout_link(self, base_url: str, caller: object) -> str | None:
        return "https://testpay.example/checkout"


@hookimpl
def register_payment_providers(register: Callable[[PaymentProvider], None]) -> None:
    register(TestPay())
