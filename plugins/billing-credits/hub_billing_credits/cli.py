"""``aigne-hub billing grant | take | balance | ledger | sweep | verify``: the credits mode from the shell."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import click

from hub_core.billing import credits_str
from hub_core.cli import billing_mode, cli_actor, command_hub, run_async

if TYPE_CHECKING:
    from hub_billing_credits.mode import CreditsMode
    from hub_core import HubUser, Users


async def _mode(settings: Any) -> CreditsMode:
    from hub_billing_credits.mode import CreditsMode

    mode = await billing_mode(settings, CreditsMode.name)
    if not isinstance(mode, CreditsMode):
        raise click.ClickException("The credits billing mode is not the one of this plugin")
    return mode


def _users(settings: Any) -> Users:
    return command_hub(settings).users


async def _user(settings: Any, ref: str) -> HubUser:
    users = _users(settings)
    user = await (users.find(id=int(ref)) if ref.isdigit() else users.find(did=ref))
    if user is None:
        raise click.ClickException(f"No user {ref!r} (give a user id or DID)")
    return user


@click.command("grant")
@click.argument("user_ref", metavar="USER")
@click.argument("amount")
@click.option("--reason", default=None, help="Why (kept in the ledger).")
@click.option("--expires-in", type=float, default=None, help="Days until the unused credits expire.")
@click.option("--kind", type=click.Choice(["grant", "topup", "refund"]), default="grant", show_default=True)
@click.option("--json", "as_json", is_flag=True)
@run_async
async def grant(
    settings: Any,
    user_ref: str,
    amount: str,
    reason: str | None,
    expires_in: float | None,
    kind: str,
    as_json: bool,
) -> None:
    """Give USER (id or DID) AMOUNT credits."""
    from datetime import UTC, datetime, timedelta

    mode = await _mode(settings)
    user = await _user(settings, user_ref)
    owner = next(iter(await _users(settings).search(role="owner", limit=1)), None)
    expires = datetime.now(UTC) + timedelta(days=expires_in) if expires_in else None
    entry = await mode.grant(
        user.id,
        amount,
        reason=reason or "granted from the CLI",
        actor_user_id=owner.id if owner else None,
        kind=kind,
        expires_at=expires,
        audit=cli_actor(),
    )
    assert entry is not None
    data = {
        "id": entry.id,
        "userId": user.id,
        "amount": credits_str(entry.amount),
        "balanceAfter": credits_str(entry.balance_after),
    }
    if as_json:
        click.echo(json.dumps(data, indent=2))
    else:
        click.echo(
            f"Granted {data['amount']} credits to {user.name} (id {user.id}); balance {data['balanceAfter']}."
        )


@click.command("take")
@click.argument("user_ref", metavar="USER")
@click.argument("amount")
@click.option("--reason", required=True, help="Why (kept in the ledger).")
@run_async
async def take(settings: Any, user_ref: str, amount: str, reason: str) -> None:
    """Take up to AMOUNT credits from USER (never what calls in flight reserved)."""
    mode = await _mode(settings)
    user = await _user(settings, user_ref)
    taken = await mode.take(user.id, amount, reason=reason, actor_user_id=None, audit=cli_actor())
    click.echo(f"Took {credits_str(taken)} credits from {user.name} (id {user.id}).")


@click.command("balance")
@click.argument("user_ref", metavar="USER")
@click.option("--json", "as_json", is_flag=True)
@run_async
async def balance(settings: Any, user_ref: str, as_json: bool) -> None:
    """USER's balance, reserved credits and totals."""
    from hub_billing_credits import ledger

    mode = await _mode(settings)
    user = await _user(settings, user_ref)
    await mode.ensure_account(user.id)
    await ledger.expire_due(user_id=user.id)
    f = await ledger.figures(user.id)
    data = {
        "userId": user.id,
        "balance": credits_str(f["balance"] - f["held"]),
        "pendingCredit": credits_str(f["held"]),
        "total": credits_str(f["credited"]),
        "used": credits_str(f["debited"]),
        "grantCount": f["grant_count"],
    }
    if as_json:
        click.echo(json.dumps(data, indent=2))
    else:
        click.echo(
            f"{user.name} (id {user.id}): {data['balance']} available, {data['pendingCredit']} reserved, "
            f"{data['total']} credited, {data['used']} used"
        )


@click.command("ledger")
@click.argument("user_ref", metavar="USER")
@click.option("--limit", type=int, default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True)
@run_async
async def ledger_cmd(settings: Any, user_ref: str, limit: int, as_json: bool) -> None:
    """USER's latest ledger entries, newest first."""
    from hub_billing_credits.models import CreditLedger

    await _mode(settings)
    user = await _user(settings, user_ref)
    rows = await CreditLedger.filter(user_id=user.id).order_by("-id").limit(limit)
    data = [
        {
            "id": r.id,
            "kind": r.kind,
            "amount": credits_str(r.amount),
            "balanceAfter": credits_str(r.balance_after),
            "reason": r.reason,
            "callId": r.call_id,
            "createdAt": r.created_at.isoformat(),
        }
        for r in rows
    ]
    if as_json:
        click.echo(json.dumps(data, indent=2))
        return
    for e in data:
        click.echo(
            f"{e['createdAt'][:19]}  {e['kind']:<7} {e['amount']:>16}  → {e['balanceAfter']:>16}  "
            f"{e['reason'] or ''}"
        )


@click.command("sweep")
@run_async
async def sweep(settings: Any) -> None:
    """Expire grants past their date and release holds of calls that never settled, now."""
    mode = await _mode(settings)
    result = await mode.sweep()
    click.echo(f"Expired {result['expired']} grant(s); released {result['released']} stale hold(s).")


@click.command("verify")
@click.argument("user_ref", metavar="USER")
@run_async
async def verify(settings: Any, user_ref: str) -> None:
    """Check that USER's balance equals the sum of the ledger and of the unexpired grants."""
    from hub_billing_credits import ledger

    await _mode(settings)
    user = await _user(settings, user_ref)
    result = await ledger.verify(user.id)
    click.echo(json.dumps(result))
    if not result["ok"]:
        raise click.ClickException("the account does not match its ledger")


def commands() -> list[click.Command]:
    ledger_cmd.name = "ledger"
    return [grant, take, balance, ledger_cmd, sweep, verify]
