"""Tortoise ORM models: the hub's tables. Schema changes go through migrations in `hub_core.db.migrations`."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class User(Model):
    id = fields.IntField(primary_key=True)
    did = fields.CharField(max_length=100, unique=True)
    name = fields.CharField(max_length=200)
    email = fields.CharField(max_length=254, null=True)
    role = fields.CharField(max_length=16, default="member")  # owner | admin | member
    disabled = fields.BooleanField(default=False)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "users"


class UserIdentity(Model):
    """An external identity (an auth plugin's issuer and subject, e.g. a JWT's ``iss`` and ``sub``) mapped to
    a hub user, so one person signs in through any of their identities (`hub_core.admin.directory`)."""

    id = fields.IntField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="identities", on_delete=fields.CASCADE
    )
    issuer = fields.CharField(max_length=200)
    subject = fields.CharField(max_length=255)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "user_identities"
        unique_together = (("issuer", "subject"),)


class AccessKey(Model):
    id = fields.IntField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="access_keys", on_delete=fields.CASCADE
    )
    name = fields.CharField(max_length=200)
    prefix = fields.CharField(max_length=20)
    key_hash = fields.CharField(max_length=64, unique=True)
    role = fields.CharField(max_length=16, default="member")
    created_at = fields.DatetimeField(auto_now_add=True)
    expires_at = fields.DatetimeField(null=True)
    revoked_at = fields.DatetimeField(null=True)
    last_used_at = fields.DatetimeField(null=True)

    class Meta:
        table = "access_keys"


class Provider(Model):
    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=50, unique=True)
    display_name = fields.CharField(max_length=100)
    base_url = fields.CharField(max_length=500, null=True)
    region = fields.CharField(max_length=50, null=True)
    enabled = fields.BooleanField(default=True)
    config = fields.JSONField(default=dict)
    #: ``plugin``: served by the installed provider plugin of the same name; ``openai_compatible``: an
    #: OpenAI-compatible endpoint an admin added as data (`hub_core.default_plugins.openai_compatible`)
    kind = fields.CharField(max_length=32, default="plugin")
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "providers"


class Credential(Model):
    id = fields.IntField(primary_key=True)
    provider: fields.ForeignKeyRelation[Provider] = fields.ForeignKeyField(
        "models.Provider", related_name="credentials", on_delete=fields.CASCADE
    )
    name = fields.CharField(max_length=100)
    credential_type = fields.CharField(max_length=32, default="api_key")
    ciphertext = fields.TextField()
    masked = fields.CharField(max_length=200)
    weight = fields.IntField(default=100)
    active = fields.BooleanField(default=True)
    error = fields.TextField(null=True)
    usage_count = fields.BigIntField(default=0)
    last_used_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "credentials"


class PluginState(Model):
    name = fields.CharField(max_length=100, primary_key=True)
    enabled = fields.BooleanField(default=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "plugin_state"


class HubState(Model):
    """Small key/value facts shared by every hub instance, e.g. the config generation counter."""

    key = fields.CharField(max_length=100, primary_key=True)
    value = fields.TextField()
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "hub_state"


class ModelCall(Model):
    """One row per routed call: the usage log."""

    id = fields.BigIntField(primary_key=True)
    request_id = fields.CharField(max_length=64, db_index=True)
    created_at = fields.DatetimeField(db_index=True)
    user_id = fields.IntField(null=True, db_index=True)
    key_id = fields.IntField(null=True)
    app_did = fields.CharField(max_length=200, null=True, db_index=True)
    endpoint = fields.CharField(max_length=100)
    kind = fields.CharField(max_length=20)
    model = fields.CharField(max_length=200)
    provider = fields.CharField(max_length=50, null=True)
    provider_id = fields.IntField(null=True)
    upstream_model = fields.CharField(max_length=200, null=True)
    credential_id = fields.IntField(null=True)
    stream = fields.BooleanField(default=False)
    status = fields.CharField(max_length=16)  # success | error | aborted
    http_status = fields.IntField(default=200)
    error = fields.TextField(null=True)
    input_tokens = fields.IntField(default=0)
    output_tokens = fields.IntField(default=0)
    cached_tokens = fields.IntField(default=0)
    cache_write_tokens = fields.IntField(default=0)
    reasoning_tokens = fields.IntField(default=0)
    images = fields.IntField(default=0)
    seconds = fields.FloatField(default=0)
    duration_ms = fields.FloatField(default=0)
    ttfb_ms = fields.FloatField(null=True)
    metadata = fields.JSONField(default=dict)
    credits = fields.BigIntField(default=0)  # units of 1e-10 credit (hub_core.billing.manager.UNIT)

    class Meta:
        table = "model_calls"


class Session(Model):
    """A signed-in browser: the hash of its random session token and the access key it signed in with.

    Sign-out deletes the row; revoking the key ends its sessions (checked on every request)."""

    id = fields.IntField(primary_key=True)
    token_hash = fields.CharField(max_length=64, unique=True)
    key: fields.ForeignKeyRelation[AccessKey] = fields.ForeignKeyField(
        "models.AccessKey", related_name="sessions", on_delete=fields.CASCADE
    )
    created_at = fields.DatetimeField(auto_now_add=True)
    expires_at = fields.DatetimeField(db_index=True)
    user_agent = fields.CharField(max_length=200, null=True)

    class Meta:
        table = "sessions"


# --- billing and usage analytics (hub_core.billing, hub_core.usage.analytics) ------------------------------
# Credit amounts are integers in units of 1e-10 credit (`hub_core.billing.pricing.UNIT`): SQL arithmetic on
# them is exact on SQLite and PostgreSQL alike. Billing plugins keep their own tables (register_db_models).


class ModelRate(Model):
    """What a provider/model costs in credits, per kind of call, for every billing mode."""

    id = fields.IntField(primary_key=True)
    provider = fields.CharField(max_length=50)
    model = fields.CharField(max_length=200)
    kind = fields.CharField(max_length=20)  # chat | embedding | image | video
    display_name = fields.CharField(max_length=200, null=True)
    description = fields.TextField(null=True)
    input_rate = fields.DecimalField(max_digits=24, decimal_places=12)  # credits per input token
    output_rate = fields.DecimalField(max_digits=24, decimal_places=12)  # per output token / image / second
    cache_read_rate = fields.DecimalField(max_digits=24, decimal_places=12, null=True)
    cache_write_rate = fields.DecimalField(max_digits=24, decimal_places=12, null=True)
    unit_cost_input = fields.DecimalField(max_digits=24, decimal_places=12, null=True)  # upstream USD
    unit_cost_output = fields.DecimalField(max_digits=24, decimal_places=12, null=True)
    metadata = fields.JSONField(default=dict)
    deprecated = fields.BooleanField(default=False)
    deprecated_at = fields.DatetimeField(null=True)
    deprecated_reason = fields.TextField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "model_rates"
        unique_together = (("provider", "model", "kind"),)


class UsageRollup(Model):
    """Hourly and daily totals per user, app, provider, model and kind, updated with every usage-log batch."""

    id = fields.BigIntField(primary_key=True)
    period = fields.CharField(max_length=4)  # hour | day
    bucket = fields.BigIntField()  # bucket start, unix seconds (UTC)
    user_id = fields.IntField(default=0)
    app_did = fields.CharField(max_length=200, default="")
    provider = fields.CharField(max_length=50, default="")
    model = fields.CharField(max_length=200, default="")
    kind = fields.CharField(max_length=20, default="")
    calls = fields.BigIntField(default=0)
    success_calls = fields.BigIntField(default=0)
    failed_calls = fields.BigIntField(default=0)
    aborted_calls = fields.BigIntField(default=0)
    input_tokens = fields.BigIntField(default=0)
    output_tokens = fields.BigIntField(default=0)
    cached_tokens = fields.BigIntField(default=0)
    cache_write_tokens = fields.BigIntField(default=0)
    images = fields.BigIntField(default=0)
    seconds = fields.FloatField(default=0)
    credits = fields.BigIntField(default=0)
    duration_ms_sum = fields.FloatField(default=0)
    ttfb_ms_sum = fields.FloatField(default=0)
    ttfb_count = fields.BigIntField(default=0)
    last_call_at = fields.FloatField(default=0)

    class Meta:
        table = "usage_rollups"
        unique_together = (("period", "bucket", "user_id", "app_did", "provider", "model", "kind"),)


class ModelStatus(Model):
    """Whether one model works at one provider, as the last call or check found it (routing.status)."""

    id = fields.IntField(primary_key=True)
    provider = fields.CharField(max_length=50)
    model = fields.CharField(max_length=200)
    kind = fields.CharField(max_length=20)
    available = fields.BooleanField(default=True)
    error_code = fields.CharField(max_length=64, null=True)
    error = fields.TextField(null=True)
    response_ms = fields.FloatField(null=True)
    checked_at = fields.DatetimeField()

    class Meta:
        table = "model_status"
        unique_together = (("provider", "model", "kind"),)


class AuditEntry(Model):
    """One admin change: who made it, what it was and the record before and after (secrets masked), written by
    `hub_core.db.audit.record` from the admin operations the admin API and the CLI share."""

    id = fields.BigIntField(primary_key=True)
    created_at = fields.DatetimeField(db_index=True)
    actor = fields.CharField(max_length=20)  # user | cli | system
    actor_user_id = fields.IntField(null=True, db_index=True)
    actor_name = fields.CharField(max_length=200, null=True)
    actor_key_id = fields.IntField(null=True)
    action = fields.CharField(max_length=64, db_index=True)  # e.g. provider.create, key.revoke
    target_type = fields.CharField(max_length=32)
    target_id = fields.CharField(max_length=200, null=True)
    before = fields.JSONField(null=True)
    after = fields.JSONField(null=True)
    request_id = fields.CharField(max_length=64, null=True)

    class Meta:
        table = "audit_log"
