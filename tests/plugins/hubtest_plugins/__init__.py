"""Test-only plugins for the core's hook and plugin tests (never installed, never shipped).

Tests put ``tests/plugins`` on ``sys.path`` and hand the hub entry points that point here, exactly as an
installed plugin's ``[project.entry-points.aigne_hub]`` table would; `write_dist_info` makes them
discoverable by another process (the CLI) the way pip would.
"""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

GROUP = "aigne_hub"
PLUGINS_DIR = Path(__file__).resolve().parent.parent


def entry_point(module: str, name: str | None = None) -> metadata.EntryPoint:
    """The entry point of the test plugin ``hubtest_plugins.<module>``, named ``hubtest_<module>``."""
    return metadata.EntryPoint(name or f"hubtest_{module}", f"hubtest_plugins.{module}", GROUP)


def installed(name: str) -> metadata.EntryPoint:
    """An installed plugin's real entry point (with its distribution, so name and version are known)."""
    found = metadata.entry_points(group=GROUP, name=name)
    if not found:
        raise LookupError(f"plugin {name!r} is not installed")
    return next(iter(found))


def write_dist_info(
    site_dir: Path, dist: str, version: str, entry_points: dict[str, str], requires: tuple[str, ...] = ()
) -> Path:
    """Write ``<dist>-<version>.dist-info`` with METADATA and entry_points.txt into `site_dir`, so a process
    with `site_dir` on its path discovers the entry points through ``importlib.metadata``."""
    info = site_dir / f"{dist.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True, exist_ok=True)
    requirements = "".join(f"Requires-Dist: {r}\n" for r in requires)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n{requirements}")
    lines = [f"[{GROUP}]"] + [f"{name} = {target}" for name, target in entry_points.items()]
    (info / "entry_points.txt").write_text("\n".join(lines) + "\n")
    return info
