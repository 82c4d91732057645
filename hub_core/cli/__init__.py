"""The `aigne-hub` command line, and what a plugin's commands (``register_commands``) may use of it:
`run_async` (the database open, `HubError` as a clean exit), `emit` (``--json`` or lines), `command_hub` (the
hub's plugins and state), `cli_actor` (who the audit log names for a command) and `billing_mode` (a billing
plugin's configured mode)."""

from hub_core.cli.billing import billing_mode
from hub_core.cli.helpers import cli_actor, command_hub, emit, run_async
from hub_core.cli.main import main

__all__ = ["billing_mode", "cli_actor", "command_hub", "emit", "main", "run_async"]
