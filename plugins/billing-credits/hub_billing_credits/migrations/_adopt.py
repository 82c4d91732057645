"""`CreateModelOnce`: create a table unless the database already has it.

Until this plugin owned them, the core's migration ``0003_billing`` created the credits tables; a database
made then has them, with its users' balances, and upgrading must keep them as they are. (The loader skips
modules whose name starts with ``_``, so this one is not taken for a migration.)
"""

from __future__ import annotations

from typing import Any

from tortoise.migrations import operations as ops
from tortoise.migrations.schema_editor.base import BaseSchemaEditor
from tortoise.migrations.schema_generator.state import State


class CreateModelOnce(ops.CreateModel):
    """`CreateModel` that adopts an existing table of the same name instead of failing on it."""

    async def database_forward(
        self,
        app_label: str,
        old_state: State,
        new_state: State,
        state_editor: BaseSchemaEditor | None = None,
    ) -> None:
        if state_editor is not None and not state_editor.collect_sql:
            table = new_state.apps.get_model(f"{app_label}.{self.name}")._meta.db_table
            if await table_exists(state_editor.client, table):
                return
        await super().database_forward(app_label, old_state, new_state, state_editor)


async def table_exists(client: Any, table: str) -> bool:
    """Whether `table` exists (SQLite, or PostgreSQL in the connection's current schema)."""
    dialect = client.capabilities.dialect
    if dialect == "sqlite":
        sql, values = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", [table]
    elif dialect == "postgres":
        sql = (
            "SELECT 1 FROM information_schema.tables"
            " WHERE table_schema = current_schema() AND table_name = $1"
        )
        values = [table]
    else:
        raise NotImplementedError(f"the credits tables support SQLite and PostgreSQL, not {dialect}")
    _, rows = await client.execute_query(sql, values)
    return bool(rows)
