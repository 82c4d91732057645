"""The `aigne-hub` command line."""

from hub_core.cli.main import main

__all__ = ["main"]
