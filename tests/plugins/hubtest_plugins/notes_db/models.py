"""The ``hubtest_notes`` plugin's table (an app of its own; no other models imported here, so Tortoise finds
only this one in the module)."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class Note(Model):
    id = fields.IntField(primary_key=True)
    text = fields.CharField(max_length=200)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "hubtest_notes"
