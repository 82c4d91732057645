"""``aigne-hub billing ...``: choose the billing mode, change its settings, manage model rates; billing
plugins add their own subcommands (``register_commands`` with ``group="billing"``, e.g. ``billing grant`` of
the credits mode) and reach their configured mode with `billing_mode`.
"""

from __future__ import annotations

import json
from typing import Any

import click

from hub_core.cli.helpers import PluginCommandGroup, cli_actor, command_hub, emit, run_async


@click.group(cls=PluginCommandGroup)
def billing() -> None:
    """Billing: the active mode, its settings, model rates (and the commands of billing plugins)."""


async def _billing(settings: Any) -> Any:
    hub = command_hub(settings)
    await hub.gateway.billing.refresh(force=True)
    return hub.gateway.billing


async def billing_mode(settings: Any, name: str) -> Any:
    """The hub's billing mode `name` with its stored settings, for a billing plugin's commands (call it inside
    `run_async`). Raises `click.ClickException` when no installed plugin registered that mode."""
    mode = (await _billing(settings)).modes.get(name)
    if mode is None:
        raise click.ClickException(f"The {name} billing mode is not installed")
    return mode


@billing.command("mode")
@click.argument("name", required=False)
@click.option("--json", "as_json", is_flag=True)
@run_async
async def mode(settings: Any, name: str | None, as_json: bool) -> None:
    """Show the billing modes, or make NAME the active one (``none`` turns billing off)."""
    from hub_core.runtime.state import bump_generation

    manager = await _billing(settings)
    if name:
        await manager.set_mode(name, actor=cli_actor())
        await bump_generation(settings)
        await manager.refresh(force=True)
        if not as_json:
            click.echo(f"Billing mode is now {name}; running hubs apply it on their next request.")
            return
    data = manager.describe()
    lines = [f"active: {data['active']}"]
    for m in data["modes"]:
        mark = "*" if m["name"] == data["active"] else " "
        state = "" if m["pluginEnabled"] else " (plugin disabled)"
        lines.append(f" {mark} {m['name']:<10} {m['displayName']}{state}: {m['description']}")
    emit(data, as_json, lines)


@billing.command("settings")
@click.option("--mode", "mode_name", default=None, help="Whose settings (default: the active mode).")
@click.option("--set", "pairs", multiple=True, metavar="KEY=VALUE", help="Change a setting (JSON values ok).")
@click.option("--json", "as_json", is_flag=True)
@run_async
async def settings_cmd(settings: Any, mode_name: str | None, pairs: tuple[str, ...], as_json: bool) -> None:
    """Show or change the settings of a billing mode."""
    from hub_core.runtime.state import bump_generation

    manager = await _billing(settings)
    name = mode_name or manager.mode_name
    target = manager.modes.get(name or "")
    if target is None:
        raise click.ClickException(f"No billing mode {name!r}; choose one with `aigne-hub billing mode NAME`")
    if pairs:
        changes = dict(_pair(p) for p in pairs)
        await manager.update_settings(target.name, changes, actor=cli_actor())
        await bump_generation(settings)
    emit(target.settings, as_json, [f"{k} = {json.dumps(v)}" for k, v in sorted(target.settings.items())])


def _pair(text: str) -> tuple[str, Any]:
    key, sep, raw = text.partition("=")
    if not sep or not key.strip():
        raise click.BadParameter(f"{text!r} is not KEY=VALUE")
    try:
        value: Any = json.loads(raw)
    except ValueError:
        value = raw
    return key.strip(), value


# --- rates ------------------------------------------------------------------------------------------------


@billing.group("rates")
def rates_group() -> None:
    """Model rates: credits per token, image or second, per provider, model and kind."""


@rates_group.command("list")
@click.option("--provider", default=None)
@click.option("--json", "as_json", is_flag=True)
@run_async
async def rates_list(settings: Any, provider: str | None, as_json: bool) -> None:
    """List rates."""
    from hub_core.billing import rates
    from hub_core.db import models as m

    query = m.ModelRate.all().order_by("provider", "model", "kind")
    if provider:
        query = query.filter(provider=provider)
    rows = [rates.rate_dict(r) for r in await query]
    lines = [f"{'ID':>4}  {'PROVIDER/MODEL':<40} {'KIND':<9} {'INPUT':>14} {'OUTPUT':>14}"]
    lines += [
        f"{r['id']:>4}  {r['provider'] + '/' + r['model']:<40} {r['kind']:<9} {r['inputRate']:>14} "
        f"{r['outputRate']:>14}{'  (deprecated)' if r['deprecated'] else ''}"
        for r in rows
    ]
    emit(rows, as_json, lines if rows else ["No rates."])


@rates_group.command("set")
@click.argument("provider")
@click.argument("model")
@click.option(
    "--kind", type=click.Choice(["chat", "embedding", "image", "video"]), default="chat", show_default=True
)
@click.option("--input", "input_rate", default=None, help="Credits per input token.")
@click.option(
    "--output", "output_rate", default=None, help="Credits per output token / image / video second."
)
@click.option("--cache-read", default=None, help="Credits per cached input token (default: the input rate).")
@click.option("--cache-write", default=None, help="Credits per cache-write token (default: the input rate).")
@click.option("--unit-input", default=None, help="Upstream cost per input token (for re-pricing).")
@click.option("--unit-output", default=None, help="Upstream cost per output unit (for re-pricing).")
@click.option("--deprecated/--not-deprecated", default=None)
@click.option("--json", "as_json", is_flag=True)
@run_async
async def rates_set(settings: Any, provider: str, model: str, kind: str, **opts: Any) -> None:
    """Create or change the rate of PROVIDER MODEL."""
    from hub_core.billing import rates

    as_json = opts.pop("as_json")
    body: dict[str, Any] = {"provider": provider, "model": model, "kind": kind}
    names = {"input_rate": "inputRate", "output_rate": "outputRate"}
    for key, value in opts.items():
        if value is None:
            continue
        if key in names:
            body[names[key]] = value
        elif key.startswith("cache_"):
            body.setdefault("caching", {})["readRate" if key == "cache_read" else "writeRate"] = value
        elif key.startswith("unit_"):
            body.setdefault("unitCosts", {})["input" if key == "unit_input" else "output"] = value
        elif key == "deprecated":
            body["deprecated"] = value
    row = await rates.upsert_rate(settings, body, actor=cli_actor())
    data = rates.rate_dict(row)
    emit(
        data,
        as_json,
        [
            f"Rate #{row.id} {provider}/{model} ({kind}): input {data['inputRate']}, "
            f"output {data['outputRate']} credits."
        ],
    )


@rates_group.command("delete")
@click.argument("rate_id", type=int)
@run_async
async def rates_delete(settings: Any, rate_id: int) -> None:
    """Delete a rate (in credits mode its model is then refused)."""
    from hub_core.billing import rates

    await rates.delete_rate(settings, rate_id, actor=cli_actor())
    click.echo(f"Deleted rate #{rate_id}.")


@rates_group.command("reprice")
@click.option("--margin", required=True, help="Profit margin in percent over the upstream unit cost.")
@click.option(
    "--credit-price", default="1", show_default=True, help="What one credit sells for (same currency)."
)
@click.option("--provider", default=None)
@click.option("--kind", default=None)
@run_async
async def rates_reprice(
    settings: Any, margin: str, credit_price: str, provider: str | None, kind: str | None
) -> None:
    """Set rates from unit costs: rate = unit cost * (1 + margin%) / credit price."""
    from hub_core.billing import rates

    rows = await rates.bulk_reprice(
        settings, margin, credit_price, provider=provider, kind=kind, actor=cli_actor()
    )
    click.echo(f"Re-priced {len(rows)} rate(s).")
