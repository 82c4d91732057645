"""``aigne-hub plugins new``: the package it writes is a working provider plugin whose own tests (the hub's
conformance suite against a fake upstream) pass, run the way its README says, from outside this repository."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

from click.testing import CliRunner

from hub_core.cli import main
from hub_core.infra.plugin_host import core_version


def test_a_new_provider_package_passes_its_own_tests(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main,
        [
            "plugins",
            "new",
            "acme_ai",
            "--dir",
            str(tmp_path / "pkg"),
            "--display-name",
            "Acme AI",
            "--model",
            "acme-1",
        ],
    )
    assert result.exit_code == 0, result.output
    package = tmp_path / "pkg"
    meta = tomllib.loads((package / "pyproject.toml").read_text())["project"]
    assert meta["name"] == "aigne-hub-provider-acme-ai"
    assert meta["entry-points"]["aigne_hub"] == {"acme_ai": "hub_provider_acme_ai"}
    major, minor = core_version().split(".")[:2]
    assert meta["dependencies"] == [f"aigne-hub>={major}.{minor},<{major}.{int(minor) + 1}"]
    assert "ACME_AI_API_KEY" in (package / "README.md").read_text()

    # the generated tests, as `pytest` in the package directory runs them (a few of the conformance suite's)
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-k",
            "reply or stream_with_usage or 429",
        ],
        cwd=package,
        env={**os.environ, "PYTHONPATH": str(package)},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert " passed" in run.stdout and "failed" not in run.stdout


def test_new_refuses_a_bad_name_and_an_existing_directory(tmp_path: Path) -> None:
    bad = CliRunner().invoke(main, ["plugins", "new", "Acme-AI", "--dir", str(tmp_path / "x")])
    assert bad.exit_code == 2 and "lower-case" in bad.output
    (tmp_path / "taken").mkdir()
    taken = CliRunner().invoke(main, ["plugins", "new", "acme", "--dir", str(tmp_path / "taken")])
    assert taken.exit_code == 1 and "already exists" in taken.output
