"""A plugin that owns its parts: a table with its own migration (``register_db_models``) and ``aigne-hub``
commands that use it (``register_commands``), written against the public API only.

- ``aigne-hub hubtest-notes add TEXT`` / ``list``: a group of its own at the top level;
- ``aigne-hub billing hubtest-notes-count``: a command under the core's ``billing`` group;
- ``aigne-hub keys``: a name the core has, so the core's command wins and a warning says so.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from hub_core import hookimpl
from hub_core.cli import emit, run_async

APP_LABEL = "hubtest_notes"


@click.group("hubtest-notes")
def notes() -> None:
    """Notes kept in the plugin's own table."""


@notes.command("add")
@click.argument("text")
@run_async
async def add(settings: Any, text: str) -> None:
    """Keep TEXT."""
    from hubtest_plugins.notes_db.models import Note

    row = await Note.create(text=text)
    click.echo(f"Kept note #{row.id}.")


@notes.command("list")
@click.option("--json", "as_json", is_flag=True)
@run_async
async def list_notes(settings: Any, as_json: bool) -> None:
    """The notes, oldest first."""
    from hubtest_plugins.notes_db.models import Note

    rows = [{"id": n.id, "text": n.text} for n in await Note.all().order_by("id")]
    emit(rows, as_json, [f"#{n['id']} {n['text']}" for n in rows])


@click.command("hubtest-notes-count")
@run_async
async def count(settings: Any) -> None:
    """How many notes there are."""
    from hubtest_plugins.notes_db.models import Note

    click.echo(f"{await Note.all().count()} note(s)")


@click.command("keys")
def keys() -> None:
    """Never runs: the core has a ``keys`` group."""
    click.echo("the plugin's keys")


@hookimpl
def register_commands(register: Callable[..., None]) -> None:
    register(notes)
    register(count, group="billing")
    register(keys)


@hookimpl
def register_db_models(register: Callable[[str, str, str], None]) -> None:
    register(APP_LABEL, "hubtest_plugins.notes_db.models", "hubtest_plugins.notes_db.migrations")
