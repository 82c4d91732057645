"""The credits mode's tables: accounts, the append-only ledger, expiring grant lots and the holds of calls in
flight. They are the plugin's own Tortoise app ``credits`` (``register_db_models``), migrated by
`hub_billing_credits.migrations` with the core's tables; no other models are imported here, so Tortoise finds
exactly these four in this module.

Amounts are integers in units of 1e-10 credit (`hub_core.billing.UNIT`): SQL arithmetic on them is exact on
SQLite and PostgreSQL alike, which the atomic holds depend on. Users are referred to by id (``user_id``), not
by a foreign key into the core's tables.
"""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

APP_LABEL = "credits"


class CreditAccount(Model):
    """Credits of one user: balance is the sum of the ledger, held is reserved by calls in flight."""

    user_id = fields.IntField(primary_key=True, generated=False)
    balance = fields.BigIntField(default=0)
    held = fields.BigIntField(default=0)
    credited = fields.BigIntField(default=0)  # sum of positive ledger entries
    debited = fields.BigIntField(default=0)  # sum of negative ledger entries, as a positive number
    version = fields.BigIntField(default=0)  # bumped by every write; the first UPDATE locks the row
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "credit_accounts"


class CreditLedger(Model):
    """Append-only: every change of a balance, with its reason and the admin, payment or call behind it."""

    id = fields.BigIntField(primary_key=True)
    user_id = fields.IntField(db_index=True)
    kind = fields.CharField(max_length=16)  # grant | topup | charge | refund | expiry | adjust
    amount = fields.BigIntField()  # signed, units of 1e-10 credit
    balance_after = fields.BigIntField()
    reason = fields.CharField(max_length=500, null=True)
    actor_user_id = fields.IntField(null=True)
    call_id = fields.CharField(max_length=64, null=True, db_index=True)
    request_id = fields.CharField(max_length=64, null=True)
    grant_id = fields.IntField(null=True)
    idempotency_key = fields.CharField(max_length=200, null=True, unique=True)
    metadata = fields.JSONField(default=dict)
    created_at = fields.DatetimeField(db_index=True)

    class Meta:
        table = "credit_ledger"


class CreditGrant(Model):
    """A lot of credits that may expire. Charges use the lots that expire first."""

    id = fields.IntField(primary_key=True)
    user_id = fields.IntField(db_index=True)
    source = fields.CharField(max_length=16)  # welcome | admin | payment | refund
    amount = fields.BigIntField()
    remaining = fields.BigIntField()
    expires_at = fields.DatetimeField(null=True, db_index=True)
    expired_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "credit_grants"


class CreditHold(Model):
    """Credits reserved by one call in flight, deleted when the call settles."""

    id = fields.CharField(max_length=32, primary_key=True)  # the call id
    user_id = fields.IntField(db_index=True)
    amount = fields.BigIntField()
    request_id = fields.CharField(max_length=64, null=True)
    created_at = fields.DatetimeField(db_index=True)

    class Meta:
        table = "credit_holds"
