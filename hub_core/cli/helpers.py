"""What the core's commands and the commands of plugins (``register_commands``) share: settings from the
environment, `run_async` (the database open, `HubError` as a clean exit), `emit`, `command_hub`, and the group
class that offers plugin commands. Plugins use it through `hub_core.cli`.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from functools import wraps
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from hub_core.types import AuditActor

T = TypeVar("T")


def settings_from_env() -> Any:
    from hub_core.config import ConfigError, Settings
    from hub_core.infra.access_keys import operator_key_problem
    from hub_core.infra.logging import configure_logging

    try:
        settings = Settings.from_env()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    if settings.admin_key is not None and (problem := operator_key_problem(settings.admin_key)):
        raise click.ClickException(problem)  # before anything starts, for every command
    configure_logging(settings)  # log lines go to stderr, so stdout stays parseable (--json, keys create)
    return settings


def run_async(fn: Callable[..., Awaitable[T]]) -> Callable[..., T]:
    """Run an async command with the database open, turning `HubError` into a clean exit 1."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        from hub_core.errors import HubError

        async def main() -> T:
            from hub_core import db
            from hub_core.hub import initialize_owner

            settings = settings_from_env()
            apps = _apps_of_loaded_plugins()
            await db.upgrade(settings, apps)
            ctx = await db.connect(settings, apps)
            try:
                token = await initialize_owner(announce=False, admin_key=settings.admin_key)
                if token and token != settings.admin_key:
                    _announce_to_stderr(token)
                return await fn(settings, *args, **kwargs)
            finally:
                await db.close(ctx)

        try:
            return asyncio.run(main())
        except HubError as exc:
            detail = exc.extra.get("detail")  # the upstream's words when it refused or failed a check
            raise click.ClickException(f"{exc.message}: {detail}" if detail else exc.message) from exc

    return wrapper


class InstalledPlugins:
    """The `hub` the command line offers the two registration hooks it calls (``register_commands``,
    ``register_db_models``): no hub runs here, so it has the settings and each plugin's schema defaults
    (stored plugin settings need the database, which is not open yet)."""

    def __init__(self, settings: Any) -> None:
        from hub_core.hub import build_plugin_host

        self.settings = settings
        self.host = build_plugin_host(settings)
        self.host.offer(hub=self, settings=settings)
        self.host.run_registrations(only=("register_commands", "register_db_models"))

    def plugin_config(self, name: str) -> dict[str, Any]:
        return self.host.config(name)


def plugin_db_apps(settings: Any) -> dict[str, tuple[str, str]]:
    """The database apps the installed plugins declare (``register_db_models``), for the commands that
    migrate the whole database (``init``, ``db upgrade``)."""
    return InstalledPlugins(settings).host.database_apps()


def _apps_of_loaded_plugins() -> dict[str, tuple[str, str]]:
    """The plugins' database apps when the running command is a plugin's (its group loaded the plugins to
    find it), so its tables are migrated and usable; a core command works on the core's tables only, without
    importing every plugin (about 40 ms of CPU) or depending on a third party's migrations."""
    ctx = click.get_current_context(silent=True)
    installed = ctx.find_root().meta.get(_INSTALLED) if ctx is not None else None
    return installed.host.database_apps() if installed is not None else {}


def _announce_to_stderr(token: str) -> None:
    click.echo(f"First start: the owner's admin key (shown once, store it now):\n    {token}", err=True)


def command_hub(settings: Any) -> Any:
    """The `Hub` a command works with: plugins loaded and registered, configuration not loaded, not started
    (call it inside `run_async`, where the database is open)."""
    from hub_core.hub import Hub

    return Hub(settings)


def emit(data: Any, as_json: bool, lines: list[str]) -> None:
    """Print `data` as JSON (``--json``) or the human-readable `lines`."""
    if as_json:
        click.echo(json.dumps(data, indent=2, default=str))
    else:
        for line in lines:
            click.echo(line)


class PluginCommandGroup(click.Group):
    """A command group of the core that also offers the commands plugins register for it (the top level, or
    a group named in ``register(command, group=...)``). Plugins are loaded only when a command is not the
    core's, or for the command list of ``--help``, so core commands start without importing them."""

    group_class = type  # the core's groups (``@main.group()``) are of this class too

    def _plugin_commands(self, ctx: click.Context) -> dict[str, click.Command]:
        installed = _installed_plugins(ctx)
        host = installed.host if installed is not None else None
        every = {k: (host.command_owner[k], c) for k, c in host.plugin_commands().items()} if host else {}
        names: list[str] = []
        while ctx.parent is not None:  # this group's path below the root: "billing", "billing rates"
            names.append(ctx.info_name or "")
            ctx = ctx.parent
        group = " ".join(reversed(names))
        out: dict[str, click.Command] = {}
        for (in_group, name), (plugin, command) in every.items():
            if in_group != group:
                continue
            if name in self.commands:
                click.echo(
                    f"warning: command {name!r} of plugin {plugin!r} is ignored: the core has a command of "
                    "that name",
                    err=True,
                )
                continue
            out[name] = command
        return out

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *self._plugin_commands(ctx)})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return self.commands.get(cmd_name) or self._plugin_commands(ctx).get(cmd_name)


_INSTALLED = "aigne_hub.installed_plugins"


def _installed_plugins(ctx: click.Context) -> InstalledPlugins | None:
    """The installed plugins, loaded once per command line (None when the settings are invalid: the core
    command that runs next says what is wrong)."""
    from hub_core.config import ConfigError, Settings

    root = ctx.find_root()
    if _INSTALLED not in root.meta:
        try:
            root.meta[_INSTALLED] = InstalledPlugins(Settings.from_env())
        except ConfigError:
            root.meta[_INSTALLED] = None
    return root.meta[_INSTALLED]


def cli_actor() -> AuditActor:
    """Who the audit log names for a CLI change (imported late: the CLI starts without the ORM)."""
    from hub_core.db.audit import CLI

    return CLI
