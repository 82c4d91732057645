"""Every use of Tortoise ORM's private internals in one place: the context variable that makes a database
context current for a task (request tasks do not inherit the startup task's), and a model's ``_meta`` (its
connection, a field's conversion to the database's value) for the usage writer's raw batched SQL.
pyproject pins Tortoise to the versions tested; tests/test_library_overrides.py checks the shapes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.context import TortoiseContext, _current_context
from tortoise.models import Model


def activate(ctx: TortoiseContext) -> None:
    """Make `ctx` current for the running task."""
    _current_context.set(ctx)


def connection_of(model: type[Model]) -> BaseDBAsyncClient:
    """The connection `model`'s queries go through (in the current context)."""
    return model._meta.db


def is_postgres(conn: BaseDBAsyncClient) -> bool:
    return bool(conn.capabilities.dialect == "postgres")


def to_db_value(model: type[Model], field: str) -> Callable[[Any, Any], Any]:
    """The field's ``to_db_value(value, instance)``: how Tortoise turns a Python value into the column's."""
    return model._meta.fields_map[field].to_db_value  # type: ignore[no-any-return]
