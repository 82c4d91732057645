"""The core's layers (docs/architecture.md) are enforced: import-linter keeps the contract in pyproject.toml,
and a deliberate upward import, even one hidden under ``TYPE_CHECKING`` or inside a function, breaks it."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    env = {"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"}
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(root / "pyproject.toml"), "--no-cache"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def core_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The core and its contract, copied where a test may break them."""
    root = tmp_path_factory.mktemp("layers")
    shutil.copytree(ROOT / "hub_core", root / "hub_core", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", root / "pyproject.toml")
    return root


#: package roots that only re-export the layers below them (the public API), so they sit in no layer
FACADES = {"hub_core", "hub_core.billing", "hub_core.infra"}


def test_every_core_module_sits_in_a_layer() -> None:
    """import-linter checks only the modules a layer names: a new module outside every layer is unchecked."""
    layers = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"][0]
    named = [m.strip() for line in layers["layers"] for m in line.split(":")]
    modules = {".".join(p.relative_to(ROOT).with_suffix("").parts) for p in (ROOT / "hub_core").rglob("*.py")}
    modules = {m.removesuffix(".__init__") for m in modules}
    outside = sorted(m for m in modules - FACADES if not any(m == n or m.startswith(n + ".") for n in named))
    assert outside == [], f"modules in no layer of pyproject.toml's contract: {outside}"


def test_the_core_keeps_its_layers() -> None:
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "upward"),
    [
        ("hub_core/types.py", "from hub_core.pipeline.gateway import Gateway"),
        ("hub_core/infra/upstream.py", "if TYPE_CHECKING:\n    from hub_core.hub import Hub"),
        ("hub_core/routing/health.py", "def _late():\n    from hub_core.web.app import create_app"),
        ("hub_core/billing/contracts.py", "from hub_core.billing.manager import BillingManager"),
    ],
)
def test_an_upward_import_breaks_the_contract(core_copy: Path, module: str, upward: str) -> None:
    path = core_copy / module
    original = path.read_text()
    head = "from typing import TYPE_CHECKING\n" if "TYPE_CHECKING" in upward else ""
    try:
        path.write_text(original + f"\n\n{head}{upward}\n")
        result = lint_imports(core_copy)
    finally:
        path.write_text(original)
    assert result.returncode != 0
    assert "BROKEN" in result.stdout
