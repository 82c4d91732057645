"""The test plugins written as a third party would (a provider, a JWT auth plugin, an auth plugin that must be
configured, a plugin with per-hub state) use the public plugin API only: if one of them needed an internal
module, the public API would be missing a piece."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PLUGINS = Path(__file__).resolve().parent / "plugins" / "hubtest_plugins"
THIRD_PARTY = ("acme.py", "jwt_auth.py", "gatekeeper.py", "perhub.py")
PUBLIC = {"hub_core", "hub_core.providers", "hub_core.billing", "hub_core.web", "hub_core.testing"}


@pytest.mark.parametrize("name", THIRD_PARTY)
def test_a_third_party_plugin_imports_only_the_public_api(name: str) -> None:
    tree = ast.parse((PLUGINS / name).read_text())
    modules = [n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module]
    modules += [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    internal = [m for m in modules if m.startswith("hub_core") and m not in PUBLIC]
    assert internal == [], f"{name} imports internal modules: {internal}"
    assert any(m == "hub_core" for m in modules)
