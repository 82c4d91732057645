"""``aigne-hub plugins new NAME``: a provider plugin package to start from, with its tests and README."""

from __future__ import annotations

import re
from pathlib import Path
from string import Template

import click

from hub_core.infra.plugin_host import core_version

TEMPLATES = Path(__file__).parent / "templates" / "provider"
NAME = re.compile(r"^[a-z][a-z0-9_]{1,30}$")


def core_range(version: str) -> str:
    """The core versions a new plugin declares it works with: this minor release (``>=0.2,<0.3``)."""
    major, minor, *_ = (int(part) for part in [*version.split("."), "0", "0"][:2])
    return f">={major}.{minor},<{major}.{minor + 1}" if major == 0 else f">={major}.{minor},<{major + 1}"


def scaffold(name: str, target: Path, *, display: str, base_url: str, model: str) -> list[Path]:
    """Write the package of provider plugin `name` into `target` (which must not exist); returns its files."""
    if not NAME.match(name):
        raise click.BadParameter(
            "use 2-31 lower-case letters, digits or _, starting with a letter", param_hint="NAME"
        )
    if target.exists():
        raise click.ClickException(f"{target} already exists")
    values = {
        "name": name,
        "dist": name.replace("_", "-"),
        "module": f"hub_provider_{name}",
        "cls": "".join(part.capitalize() for part in name.split("_")),
        "display": display,
        "env": name.upper(),
        "base_url": base_url,
        "model": model,
        "core_range": core_range(core_version()),
    }
    written = []
    for source in sorted(TEMPLATES.rglob("*.tmpl")):
        relative = source.relative_to(TEMPLATES).with_suffix("")
        if relative.name == "module.py":
            relative = relative.with_name(f"{values['module']}.py")
        path = target / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(Template(source.read_text()).substitute(values))
        written.append(path)
    return written


@click.command("new")
@click.argument("name")
@click.option(
    "--dir",
    "directory",
    type=click.Path(path_type=Path),
    default=None,
    help="Where (default ./aigne-hub-provider-NAME).",
)
@click.option("--display-name", default=None, help="The vendor's name as people write it.")
@click.option(
    "--base-url", default="https://api.example.com/v1", show_default=True, help="The vendor's API base URL."
)
@click.option(
    "--model", default="example-model", show_default=True, help="A model the vendor serves (test model)."
)
def plugins_new(
    name: str, directory: Path | None, display_name: str | None, base_url: str, model: str
) -> None:
    """Create a provider plugin package NAME (an OpenAI-compatible provider, its tests and README)."""
    target = directory or Path(f"aigne-hub-provider-{name.replace('_', '-')}")
    files = scaffold(
        name, target, display=display_name or name.replace("_", " ").title(), base_url=base_url, model=model
    )
    for path in files:
        click.echo(path)
    click.echo(f"Next: cd {target} && pip install -e '.[test]' && pytest", err=True)
