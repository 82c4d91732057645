"""Build hook: puts the built console (``ui/dist``) into the core's sdist and wheel.

In the wheel it becomes package data, ``hub_core/ui_dist``, which the hub serves when it was installed without
this repository. Editable installs (``uv sync``) skip it: a checkout serves ``ui/dist`` directly.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

WHERE = {"wheel": "hub_core/ui_dist", "sdist": "ui/dist"}


class ConsoleBuildHook(BuildHookInterface):  # type: ignore[type-arg]
    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if version == "editable" or self.target_name not in WHERE:
            return
        dist = Path(self.root) / "ui" / "dist"
        if not (dist / "index.html").is_file():
            raise RuntimeError(
                f"{dist} has no built console: build it first (`make dist` does: npm ci && npm run build in ui/)"
            )
        build_data["force_include"][str(dist)] = WHERE[self.target_name]
