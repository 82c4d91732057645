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

    class Meta:
        table = "model_calls"
