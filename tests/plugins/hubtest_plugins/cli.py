"""Run the real ``aigne-hub`` command in a subprocess against a data dir, as a script or an operator would."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

AIGNE_HUB = Path(sys.executable).parent / "aigne-hub"
# Every subprocess would otherwise recompile the whole stack when bytecode writing is off: keep one private
# bytecode cache for the test run (never written into the shared virtualenv).
_PYCACHE = tempfile.TemporaryDirectory(prefix="aigne-hub-test-pyc-")


def cli_env(data_dir: Path | None = None, **extra: str) -> dict[str, str]:
    """The current environment minus hub and Blocklet settings, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIGNE_HUB_", "BLOCKLET_"))}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = _PYCACHE.name
    if data_dir is not None:
        env["AIGNE_HUB_DATA_DIR"] = str(data_dir)
    env.update(extra)
    return env


def run_cli(
    *args: str, data_dir: Path | None, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(AIGNE_HUB), *args],
        env=cli_env(data_dir, **(env or {})),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def ok(result: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert result.returncode == 0, (
        f"exit {result.returncode}\nstdout: {result.stdout}\nstderr: {result.stderr}"
    )
    return result


def assert_clean_failure(result: subprocess.CompletedProcess[str], message: str) -> None:
    """A failed command: non-zero exit, a message saying why, and no traceback."""
    assert result.returncode != 0, result.stdout
    assert message in result.stderr, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
