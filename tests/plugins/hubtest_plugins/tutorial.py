"""The plugins of docs/plugins.md's tutorial, as its code blocks (``tutorial-file``) hold them: as files, or
as pip-installable projects (one module, its entry point, the core range)."""

from __future__ import annotations

import re
from pathlib import Path

GUIDE = Path(__file__).resolve().parents[3] / "docs" / "plugins.md"
#: the tutorial's plugins by module name: (entry-point name, distribution name)
PACKAGES = {
    "hub_provider_acme": ("acme", "aigne-hub-provider-acme"),
    "hub_provider_parrot": ("parrot", "aigne-hub-provider-parrot"),
    "hub_auth_org": ("org", "aigne-hub-auth-org"),
    "hub_usage_jsonl": ("usage_jsonl", "aigne-hub-usage-jsonl"),
}


def tutorial_files() -> dict[str, str]:
    """File name -> code of every ``tutorial-file`` block, in the guide's order."""
    blocks = re.findall(r"<!-- tutorial-file: (\S+) -->\n```python\n(.*?)```", GUIDE.read_text(), re.S)
    return dict(blocks)


def tutorial_projects(where: Path, core_range: str) -> list[Path]:
    """One project directory per tutorial plugin under `where`, as its author would publish it."""
    projects = []
    for filename, code in tutorial_files().items():
        module = filename.removesuffix(".py")
        entry, dist = PACKAGES[module]
        project = where / dist
        project.mkdir(parents=True)
        (project / filename).write_text(code)
        (project / "pyproject.toml").write_text(
            f'[project]\nname = "{dist}"\nversion = "1.0.0"\ndependencies = ["aigne-hub{core_range}"]\n'
            f'[project.entry-points.aigne_hub]\n{entry} = "{module}"\n'
            '[build-system]\nrequires = ["hatchling"]\nbuild-backend = "hatchling.build"\n'
            f'[tool.hatch.build.targets.wheel]\ninclude = ["{filename}"]\n'
        )
        projects.append(project)
    return projects
