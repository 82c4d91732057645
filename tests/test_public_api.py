"""The public plugin API: what a plugin may import is `hub_core` and a few named submodules, each with
``__all__``; every plugin under plugins/ (its tests included) imports nothing else. (An import-linter contract
cannot say this: most plugins are single modules, which it does not analyse.)"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PUBLIC = (
    "hub_core",
    "hub_core.providers",
    "hub_core.billing",
    "hub_core.web",
    "hub_core.cli",
    "hub_core.testing",
)


def hub_core_imports(path: Path) -> list[tuple[int, str]]:
    """Every ``hub_core`` module a file imports, wherever the import is (function bodies included)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # ``from hub_core import db`` names a module too: count each imported name that is one
            names = [node.module]
            if node.module in PUBLIC:
                exported = set(importlib.import_module(node.module).__all__)
                names += [f"{node.module}.{a.name}" for a in node.names if a.name not in exported]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        found += [(node.lineno, n) for n in names if n == "hub_core" or n.startswith("hub_core.")]
    return found


def test_plugins_import_only_the_public_api() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}:{line}: {module}"
        for path in sorted((ROOT / "plugins").rglob("*.py"))
        if "node_modules" not in path.parts and "legacy_core_migrations" not in path.parts
        for line, module in hub_core_imports(path)
        if module not in PUBLIC
    ]
    assert offenders == [], "plugins import non-public hub_core modules:\n" + "\n".join(offenders)


@pytest.mark.parametrize("name", PUBLIC)
def test_each_public_module_declares_what_it_exports(name: str) -> None:
    module = importlib.import_module(name)
    exported = getattr(module, "__all__", None)
    assert exported, f"{name} has no __all__"
    missing = [n for n in exported if not hasattr(module, n)]
    assert missing == [], f"{name}.__all__ names what it does not have: {missing}"


def test_the_public_api_ships_type_information() -> None:
    assert (ROOT / "hub_core" / "py.typed").is_file()


def test_the_hub_offers_everything_hubapi_promises() -> None:
    """`HubAPI` is a Protocol plugins are typed against; the `Hub` handed to them must have every member."""
    import inspect

    from hub_core import HubAPI
    from hub_core.hub import Hub

    promised = {n for n in vars(HubAPI) if not n.startswith("_")}
    assert {"settings", "plugin_config", "users", "audit"} <= promised
    missing = [
        n for n in promised if not hasattr(Hub, n) and n not in ("settings", "users")
    ]  # set in __init__
    assert missing == []
    assert inspect.signature(Hub.audit).parameters.keys() == inspect.signature(HubAPI.audit).parameters.keys()
