"""The public plugin API: what a plugin may import is `hub_core` and a few named submodules, each with
``__all__``."""

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
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        found += [(node.lineno, n) for n in names if n == "hub_core" or n.startswith("hub_core.")]
    return found


@pytest.mark.parametrize("name", PUBLIC)
def test_each_public_module_declares_what_it_exports(name: str) -> None:
    module = importlib.import_module(name)
    exported = getattr(module, "__all__", None)
    assert exported, f"{name} has no __all__"
    missing = [n for n in exported if not hasattr(module, n)]
    assert missing == [], f"{name}.__all__ names what it does not have: {missing}"


def test_the_public_api_ships_type_information() -> None:
    assert (ROOT / "hub_core" / "py.typed").is_file()
