"""The ``aigne-hub`` command: serve, initialize, and administer the hub from scripts.

Every command works on the database in ``AIGNE_HUB_DATA_DIR`` or ``AIGNE_HUB_DATABASE_URL`` and tells running
hubs about its changes (see `hub_core.runtime.state`). List and create commands take ``--json``. Plugins add
commands with the ``register_commands`` hook (`hub_core.cli.helpers`).
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

import click

from hub_core.cli.billing import billing
from hub_core.cli.helpers import (
    PluginCommandGroup,
    cli_actor,
    command_hub,
    emit,
    plugin_db_apps,
    run_async,
    settings_from_env,
)
from hub_core.cli.scaffold import plugins_new


@click.group(cls=PluginCommandGroup)
@click.version_option(package_name="aigne-hub")
def main() -> None:
    """AIGNE Hub: one endpoint for every model."""


# --- serve / init / db --------------------------------------------------------------------------------


@main.command()
@click.option("--host", default=None, help="Interface to bind (default 127.0.0.1 or AIGNE_HUB_HOST).")
@click.option("--port", type=int, default=None, help="Port (default 8090, or BLOCKLET_PORT).")
@click.option("--workers", type=int, default=1, show_default=True, help="Worker processes.")
def serve(host: str | None, port: int | None, workers: int) -> None:
    """Run the hub with Hypercorn (initializes the data dir on first start)."""
    from hypercorn.config import Config

    from hub_core.infra.logging import log_uncaught_exceptions

    settings = settings_from_env()
    log_uncaught_exceptions()
    config = Config()
    config.bind = [f"{host or settings.host}:{port or settings.port}"]
    config.accesslog = None
    config.errorlog = logging.getLogger("hypercorn.error")  # through the hub's logger (JSON, one format)
    config.keep_alive_timeout = 75
    config.graceful_timeout = 10
    if workers > 1:
        from hypercorn.run import run

        _init_sync(settings)  # migrate and create the owner once, before the workers race for it
        config.workers = workers
        config.application_path = "hub_core.web.asgi:app"
        sys.exit(run(config))
    from hypercorn.asyncio import serve as hypercorn_serve

    from hub_core.web import hypercorn_overrides
    from hub_core.web.app import create_app, tune_gc_for_serving

    hypercorn_overrides.install()
    app = create_app(settings)
    tune_gc_for_serving(app)
    click.echo(f"AIGNE Hub listening on http://{config.bind[0]}{settings.mount_path or '/'}")
    asyncio.run(hypercorn_serve(app, config))  # type: ignore[arg-type]


def _init_sync(settings: Any) -> str | None:
    from hub_core import db
    from hub_core.hub import initialize_owner

    async def go() -> str | None:
        apps = plugin_db_apps(settings)
        await db.upgrade(settings, apps)
        ctx = await db.connect(settings, apps)
        try:
            return await initialize_owner(announce=True, admin_key=settings.admin_key)
        finally:
            await db.close(ctx)

    return asyncio.run(go())


@main.command()
def init() -> None:
    """Create the data dir, apply migrations, and create the owner with the admin key from
    AIGNE_HUB_ADMIN_KEY / AIGNE_HUB_ADMIN_KEY_FILE, or a generated one printed once."""
    settings = settings_from_env()
    from hub_core.infra.crypto import Keyring
    from hub_core.infra.files import private_dir

    private_dir(settings.data_dir)

    Keyring.load(settings.secret_key, settings.key_file)
    token = _init_sync(settings)
    if token is None:
        click.echo("Already initialized: the owner exists (create more keys with `aigne-hub keys create`).")
    elif token == settings.admin_key:
        click.echo("Initialized: the owner signs in with the admin key the operator provided.")


@main.group("db")
def db_group() -> None:
    """Database schema."""


@db_group.command("upgrade")
def db_upgrade() -> None:
    """Apply pending migrations."""
    from hub_core import db

    async def go() -> list[str]:
        settings = settings_from_env()
        return await db.upgrade(settings, plugin_db_apps(settings))

    applied = asyncio.run(go())
    click.echo("\n".join(f"applied {name}" for name in applied) or "database is up to date")


# --- keys ---------------------------------------------------------------------------------------------


@main.group()
def keys() -> None:
    """Access keys."""


@keys.command("create")
@click.option("--name", required=True, help="What the key is for (an app, a person).")
@click.option("--role", type=click.Choice(["member", "admin"]), default="member", show_default=True)
@click.option(
    "--user",
    "user_ref",
    type=int,
    default=None,
    help="Attach to this user id; default: a new user named NAME.",
)
@click.option("--expires-in", type=int, default=None, help="Days until the key expires.")
@click.option("--json", "as_json", is_flag=True)
@run_async
async def keys_create(
    settings: Any, name: str, role: str, user_ref: int | None, expires_in: int | None, as_json: bool
) -> None:
    """Create a key. The key itself is printed alone on the last line, and never shown again."""
    from hub_core.admin import users

    if user_ref is not None:
        user = await users.get_user(user_ref)
    else:
        user = await users.create_user(name, role, actor=cli_actor())
    expires = datetime.now(UTC) + timedelta(days=expires_in) if expires_in else None
    key, token = await users.create_key(user, name, role, expires, actor=cli_actor())
    if as_json:
        click.echo(json.dumps({**users.key_dict(key), "key": token}, indent=2))
        return
    click.echo(f"Created {role} key #{key.id} {key.name!r} for user {user.name!r} (id {user.id}).", err=True)
    click.echo(token)


@keys.command("list")
@click.option("--json", "as_json", is_flag=True)
@run_async
async def keys_list(settings: Any, as_json: bool) -> None:
    """List keys (prefixes only; keys are stored hashed)."""
    from hub_core.admin import users
    from hub_core.db import models as m

    rows = [users.key_dict(k) for k in await m.AccessKey.all().order_by("id")]
    lines = [f"{'ID':>4}  {'PREFIX':<14} {'ROLE':<7} {'STATUS':<8} {'USER':>4}  NAME"]
    lines += [
        f"{k['id']:>4}  {k['prefix']:<14} {k['role']:<7} {k['status']:<8} {k['userId']:>4}  {k['name']}"
        for k in rows
    ]
    emit(rows, as_json, lines)


@keys.command("revoke")
@click.argument("key_ref")
@run_async
async def keys_revoke(settings: Any, key_ref: str) -> None:
    """Revoke a key by id or visible prefix; it stops working on the next request."""
    from hub_core.admin import users

    key = await users.find_key(key_ref)
    if key is None:
        raise click.ClickException(f"No key {key_ref!r}")
    await users.revoke_key(settings, key.id, actor=cli_actor())
    click.echo(f"Revoked key #{key.id} {key.name!r}.")


# --- providers and credentials -------------------------------------------------------------------------


@main.group()
def providers() -> None:
    """Providers."""


@providers.command("add")
@click.argument("name")
@click.option("--base-url", default=None, help="Upstream base URL (default: the plugin's).")
@click.option("--display-name", default=None)
@click.option("--region", default=None)
@click.option("--disabled", is_flag=True, help="Add it disabled.")
@click.option("--json", "as_json", is_flag=True)
@run_async
async def providers_add(
    settings: Any,
    name: str,
    base_url: str | None,
    display_name: str | None,
    region: str | None,
    disabled: bool,
    as_json: bool,
) -> None:
    """Configure an installed provider plugin."""
    from hub_core.admin import providers as svc

    hub = command_hub(settings)
    row = await svc.add_provider(
        settings,
        hub.host,
        name,
        display_name=display_name,
        base_url=base_url,
        region=region,
        enabled=not disabled,
        actor=cli_actor(),
    )
    emit(
        svc.provider_dict(row, hub.host),
        as_json,
        [f"Added provider {row.name} (id {row.id}) at {row.base_url or 'its default base URL'}."],
    )


@providers.command("add-compatible")
@click.argument("name")
@click.option("--base-url", required=True, help="The endpoint's OpenAI API root, e.g. http://host:8000/v1.")
@click.option("--api-key", default=None, help="Its key, stored encrypted (omit for servers that need none).")
@click.option(
    "--model", "models", multiple=True, help="A model it serves (repeat); default: ask its /models."
)
@click.option("--header", "headers", multiple=True, help="'Name: value' sent with every request (repeat).")
@click.option("--no-stream-usage", is_flag=True, help="Leave stream_options out (servers that refuse it).")
@click.option("--display-name", default=None)
@click.option("--disabled", is_flag=True, help="Add it disabled.")
@click.option("--no-verify", is_flag=True, help="Save without asking the endpoint first (offline setups).")
@click.option("--json", "as_json", is_flag=True)
@run_async
async def providers_add_compatible(
    settings: Any,
    name: str,
    base_url: str,
    api_key: str | None,
    models: tuple[str, ...],
    headers: tuple[str, ...],
    no_stream_usage: bool,
    display_name: str | None,
    disabled: bool,
    no_verify: bool,
    as_json: bool,
) -> None:
    """Add an OpenAI-compatible endpoint without a plugin; it is served as NAME/model."""
    from hub_core.admin import compatible
    from hub_core.admin import providers as svc

    config: dict[str, Any] = {}
    for header in headers:
        key, sep, val = header.partition(":")
        if not sep or not key.strip():
            raise click.UsageError(f"--header {header!r} is not 'Name: value'")
        config.setdefault("headers", {})[key.strip()] = val.strip()
    if no_stream_usage:
        config["streamUsage"] = False
    hub = command_hub(settings)
    row, found = await compatible.add_compatible_provider(
        settings,
        hub.host,
        hub.keyring,
        name,
        base_url,
        api_key=api_key,
        models=list(models) or None,
        display_name=display_name,
        enabled=not disabled,
        verify=not no_verify,
        config=config,
        actor=cli_actor(),
    )
    await row.fetch_related("credentials")
    lines = [f"Added OpenAI-compatible provider {row.name} (id {row.id}) at {row.base_url}."]
    if models:
        lines.append(f"Models: {', '.join(models)}")
    elif found:
        lines.append(f"Models listed by the endpoint ({len(found)}): {', '.join(found[:20])}")
        lines += ["  ..."] if len(found) > 20 else []
    emit({**svc.provider_dict(row, hub.host), "discoveredModels": found}, as_json, lines)


@providers.command("models")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True)
@run_async
async def providers_models(settings: Any, name: str, as_json: bool) -> None:
    """The models a provider's record lists and those its upstream lists now."""
    from hub_core.admin import compatible

    hub = command_hub(settings)
    found = await compatible.record_models(settings, hub.host, hub.keyring, name)
    lines = [f"configured: {', '.join(found['configured']) or '(none: the upstream list is used)'}"]
    lines += [f"upstream:   {model}" for model in found["upstream"]]
    emit(found, as_json, lines)


@providers.command("enable")
@click.argument("name")
@run_async
async def providers_enable(settings: Any, name: str) -> None:
    """Put a provider back into service; running hubs apply it on their next request."""
    await _set_provider_enabled(settings, name, True)


@providers.command("disable")
@click.argument("name")
@run_async
async def providers_disable(settings: Any, name: str) -> None:
    """Take a provider out of service (its calls get 503); running hubs apply it on their next request."""
    await _set_provider_enabled(settings, name, False)


async def _set_provider_enabled(settings: Any, name: str, enabled: bool) -> None:
    from hub_core.admin import providers as svc

    row = await svc.update_provider(settings, name, {"enabled": enabled}, actor=cli_actor())
    click.echo(f"{'Enabled' if enabled else 'Disabled'} provider {row.name}.")


@providers.command("remove")
@click.argument("name")
@run_async
async def providers_remove(settings: Any, name: str) -> None:
    """Delete a provider record and its credentials."""
    from hub_core.admin import providers as svc

    row = await svc.get_provider(name)
    await svc.delete_provider(settings, row.id, actor=cli_actor())
    click.echo(f"Removed provider {row.name}.")


@providers.command("list")
@click.option("--json", "as_json", is_flag=True)
@run_async
async def providers_list(settings: Any, as_json: bool) -> None:
    """List configured providers with their masked credentials."""
    from hub_core.admin import providers as svc
    from hub_core.db import models as m

    hub = command_hub(settings)
    rows = [svc.provider_dict(p, hub.host) for p in await m.Provider.all().prefetch_related("credentials")]
    lines = []
    for p in rows:
        state = "enabled" if p["enabled"] else "disabled"
        kind = "compatible" if p["kind"] == "openai_compatible" else "plugin"
        lines.append(f"{p['id']:>3} {p['name']:<12} {kind:<10} {state:<8} {p['baseUrl'] or '(default)'}")
        lines += [
            f"      - #{c['id']} {c['name']} {c['maskedValue']} weight={c['weight']} "
            f"{'active' if c['active'] else 'inactive'}"
            for c in p["credentials"]
        ]
    emit(rows, as_json, lines or ["No providers configured."])


@main.group()
def credentials() -> None:
    """Provider credentials (encrypted at rest)."""


@credentials.command("add")
@click.argument("provider")
@click.option("--value", required=True, help="The secret, or a JSON object of the credential fields.")
@click.option("--name", default=None)
@click.option("--weight", type=int, default=100, show_default=True)
@click.option("--no-verify", is_flag=True, help="Save without the live test call (offline setups).")
@click.option("--test-model", default=None, help="Model of the test call (default: the plugin's cheap one).")
@click.option("--json", "as_json", is_flag=True)
@run_async
async def credentials_add(
    settings: Any,
    provider: str,
    value: str,
    name: str | None,
    weight: int,
    no_verify: bool,
    test_model: str | None,
    as_json: bool,
) -> None:
    """Store a credential for a provider, after a live test call with the provider's test model proved
    that the vendor accepts it (skip with --no-verify)."""
    from hub_core.admin import providers as svc
    from hub_core.errors import HubError

    hub = command_hub(settings)
    parsed: Any = value
    if value.startswith("{"):
        try:
            parsed = json.loads(value)
        except ValueError as exc:
            raise click.ClickException(f"--value looks like JSON but is not valid: {exc}") from exc
    try:
        cred = await svc.add_credential(
            settings,
            hub.host,
            hub.keyring,
            provider,
            parsed,
            name=name,
            weight=weight,
            verify=not no_verify,
            test_model=test_model,
            actor=cli_actor(),
        )
    except HubError as exc:
        detail = exc.extra.get("detail")
        raise click.ClickException(f"{exc.message}: {detail}" if detail else exc.message) from exc
    emit(
        svc.credential_dict(cred),
        as_json,
        [f"Added credential #{cred.id} {cred.name} ({cred.masked}) to {provider}."],
    )


# --- plugins ------------------------------------------------------------------------------------------


@main.group()
def plugins() -> None:
    """Plugins discovered through the aigne_hub entry points."""


plugins.add_command(plugins_new)


@plugins.command("list")
@click.option("--json", "as_json", is_flag=True)
@run_async
async def plugins_list(settings: Any, as_json: bool) -> None:
    """Name, version, kind, status, hooks, what each registered, and load errors."""
    from hub_core.admin.plugin_state import disabled_plugins

    hub = command_hub(settings)
    hub.host.set_disabled(await disabled_plugins())
    rows = hub.host.describe()
    lines = [f"{'NAME':<20} {'VERSION':<9} {'KIND':<10} {'STATUS':<9} REGISTERED / HOOKS"]
    for p in rows:
        reg = "; ".join(f"{k}: {', '.join(v)}" for k, v in p["registered"].items())
        lines.append(
            f"{p['name']:<20} {p['version'] or '-':<9} {p['kind']:<10} {p['status']:<9} "
            f"{reg or ', '.join(p['hooks'])}"
        )
        if p["error"]:
            lines.append(f"{'':<20} error: {p['error']}")
    emit(rows, as_json, lines)


@plugins.command("enable")
@click.argument("name")
@run_async
async def plugins_enable(settings: Any, name: str) -> None:
    """Enable a plugin; running hubs apply it on their next request. A plugin that failed to load cannot be
    enabled: the command says why and exits 1."""
    from hub_core.admin.plugin_state import set_plugin_enabled

    resolved = await set_plugin_enabled(settings, command_hub(settings).host, name, True, actor=cli_actor())
    click.echo(f"Enabled plugin {resolved}.")


@plugins.command("disable")
@click.argument("name")
@run_async
async def plugins_disable(settings: Any, name: str) -> None:
    """Disable a plugin; running hubs apply it on their next request."""
    from hub_core.admin.plugin_state import set_plugin_enabled

    resolved = await set_plugin_enabled(settings, command_hub(settings).host, name, False, actor=cli_actor())
    click.echo(f"Disabled plugin {resolved}.")


@plugins.command("config")
@click.argument("name")
@click.argument("key", required=False)
@click.argument("value", required=False)
@click.option("--unset", is_flag=True, help="Clear KEY, so its default applies again.")
@click.option("--json", "as_json", is_flag=True)
@run_async
async def plugins_config(
    settings: Any, name: str, key: str | None, value: str | None, unset: bool, as_json: bool
) -> None:
    """Read or change a plugin's settings: NAME shows them all, NAME KEY one, NAME KEY VALUE sets one.

    VALUE is read as JSON for a field that is not a string; `-` reads it from stdin (for secrets). Secret
    fields are shown masked; values are validated against the plugin's schema; running hubs apply them on
    their next request."""
    from hub_core.admin import plugin_config as svc
    from hub_core.infra.schemas import missing_required

    hub = command_hub(settings)
    resolved, schema = svc.schema_of(hub.host, name)
    stored = await svc.stored(hub.keyring, resolved)
    if key is not None and key not in (schema.get("properties") or {}):
        raise click.ClickException(f"{key} is not a setting of plugin {resolved}")
    if key is not None and (value is not None or unset):
        if value is not None and unset:
            raise click.ClickException("give VALUE or --unset, not both")
        changed = dict(stored)
        if unset:
            changed.pop(key, None)
        else:
            changed[key] = _setting_value(schema["properties"][key], _read_value(value))
        # the whole set (a secret left out is cleared, not kept); required fields may come one at a time
        stored = svc.validate(schema, changed, partial=True)
        await svc.save(settings, hub.keyring, resolved, schema, stored, actor=cli_actor())
        missing = missing_required(schema, {**svc.defaults(schema), **stored})
        if missing:
            click.echo(f"Saved; still required: {', '.join(missing)}.", err=True)
    view = svc.view(resolved, schema, stored, {**svc.defaults(schema), **stored})
    if key is not None:
        shown = view["effective"].get(key)
        click.echo(json.dumps({key: shown}) if as_json else _shown(shown))
        return
    lines = []
    for field_name in schema.get("properties") or {}:
        shown = view["effective"].get(field_name)
        origin = "" if field_name in stored else "  (default)" if shown is not None else ""
        lines.append(f"{field_name} = {_shown(shown)}{origin}")
    emit(view, as_json, lines)


def _shown(value: Any) -> str:
    if value is None:
        return "(not set)"
    return value if isinstance(value, str) else json.dumps(value)


def _read_value(value: str | None) -> str:
    return click.get_text_stream("stdin").read().rstrip("\n") if value == "-" else str(value)


def _setting_value(prop: dict[str, Any], text: str) -> Any:
    """A string field takes the text as it is; any other field takes it as JSON when it parses (3, true,
    ["a"]), so the schema's type check says what is wrong with it otherwise."""
    if prop.get("type") == "string":
        return text
    try:
        return json.loads(text)
    except ValueError:
        return text


# --- secrets ------------------------------------------------------------------------------------------


@main.group()
def secrets() -> None:
    """The master key that encrypts provider credentials."""


@secrets.command("rotate")
@run_async
async def secrets_rotate(settings: Any) -> None:
    """Re-encrypt every credential under a new master key (key file), or under the first key of
    AIGNE_HUB_SECRET_KEY="new,old"."""
    from hub_core.admin.providers import rotate_secrets
    from hub_core.infra.crypto import Keyring
    from hub_core.runtime.state import bump_generation

    keyring = Keyring.load(settings.secret_key, settings.key_file)
    result = await rotate_secrets(keyring, actor=cli_actor())
    await bump_generation(settings)
    click.echo(f"Re-encrypted {result['reencrypted']} credential(s) under key {result['currentKeyId']}.")
    if result["reencryptedSettings"]:
        click.echo(f"Re-encrypted {result['reencryptedSettings']} secret plugin setting(s).")
    if result["droppedKeyIds"]:
        click.echo(f"Removed old key(s): {', '.join(result['droppedKeyIds'])}.")


main.add_command(billing)
