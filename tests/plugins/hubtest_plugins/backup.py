"""A second OpenAI-dialect provider, ``backup``, for the failover tests: two providers on two fake upstreams.

It knows no models of its own; a test lists what it serves on the provider record (``config.models``).
"""

from __future__ import annotations

from collections.abc import Callable

from hub_core import OpenAICompatibleProvider, Provider, hookimpl


class BackupProvider(OpenAICompatibleProvider):
    name = "backup"
    display_name = "Backup"
    default_base_url = "http://127.0.0.1:9/v1"
    test_model = "gpt-4o-mini"


@hookimpl
def register_providers(register: Callable[[Provider], None]) -> None:
    register(BackupProvider())
