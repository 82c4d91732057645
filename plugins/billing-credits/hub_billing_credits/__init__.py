"""Credits billing mode for AIGNE Hub (service-provider mode): model rates, accounts with an append-only
ledger, expiring grants, atomic holds, 402 with a payment link, payment webhooks.
"""

from __future__ import annotations

from collections.abc import Callable

from quart import Blueprint

from hub_billing_credits.mode import CreditsMode
from hub_core import hookimpl
from hub_core.billing import BillingMode

__all__ = ["CreditsMode"]


@hookimpl
def register_billing_modes(register: Callable[[BillingMode], None]) -> None:
    register(CreditsMode())  # one instance per hub: it holds that hub's sweeper and account cache


@hookimpl
def register_routes(register: Callable[[Blueprint], None]) -> None:
    from hub_billing_credits.api import bp

    register(bp)


@hookimpl
def register_commands(register: Callable[..., None]) -> None:
    from hub_billing_credits.cli import commands

    for command in commands():
        register(command, group="billing")  # aigne-hub billing grant, balance, ledger ...
