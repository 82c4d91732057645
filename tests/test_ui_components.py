"""The console's own checks, run from the Python suite so `make test` covers them: the TypeScript type check
and the Vitest component tests (jsdom) in ui/."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

UI = Path(__file__).resolve().parents[1] / "ui"

pytestmark = pytest.mark.timeout(600)


@pytest.fixture(scope="module")
def node_modules() -> Path:
    if not shutil.which("npm"):
        if os.environ.get("CI"):
            pytest.fail("npm is needed for the console tests")
        pytest.skip("npm is not installed")
    if not (UI / "node_modules" / "vitest").exists():
        _run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"])
    return UI / "node_modules"


def _run(cmd: list[str]) -> str:
    done = subprocess.run(cmd, cwd=UI, capture_output=True, text=True, timeout=540)
    if done.returncode != 0:
        pytest.fail(f"{' '.join(cmd)} failed:\n{done.stdout[-6000:]}\n{done.stderr[-3000:]}")
    return done.stdout


def test_typescript_types_check(node_modules: Path) -> None:
    _run(["npx", "--no-install", "tsc", "--noEmit", "-p", "."])


def test_vitest_component_tests(node_modules: Path) -> None:
    out = _run(["npx", "--no-install", "vitest", "run", "--reporter=dot"])
    assert " passed" in out and " failed" not in out
