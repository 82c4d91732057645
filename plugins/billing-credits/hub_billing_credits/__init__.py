"""Credits billing mode for AIGNE Hub (service-provider mode): model rates, accounts with an append-only
ledger, expiring grants, atomic holds, 402 with a payment link, payment webhooks.
"""

from __future__ import annotations

from collections.abc import Callable

from quart import Blueprint

from hub_billing_credits.mode import CreditsMode, new_for_hub
from hub_billing_credits.models import APP_LABEL
from hub_core import HubAPI, hookimpl
from hub_core.billing import BillingMode

__all__ = ["CreditsMode"]


@hookimpl
def register_billing_modes(register: Callable[[BillingMode], None], hub: HubAPI) -> None:
    register(new_for_hub(hub))  # one instance per hub: it holds that hub's sweeper and account cache


@hookimpl
def register_routes(register: Callable[[Blueprint], None]) -> None:
    from hub_billing_credits.api import bp

    register(bp)


@hookimpl
def register_commands(register: Callable[..., None]) -> None:
    from hub_billing_credits.cli import commands

    for command in commands():
        register(command, group="billing")  # aigne-hub billing grant, balance, ledger ...


@hookimpl
def register_db_models(register: Callable[[str, str, str], None]) -> None:
    # The four tables were created by the core's migration 0003_billing before this plugin owned them; its
    # first migration keeps them where they exist (hub_billing_credits.migrations._adopt).
    register(APP_LABEL, "hub_billing_credits.models", "hub_billing_credits.migrations")
