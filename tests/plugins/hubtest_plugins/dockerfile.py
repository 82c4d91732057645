"""Read the repository's Dockerfile and .dockerignore well enough to run the image's build steps without
Docker: the instructions of each stage, and a copy of the build context as ``COPY . .`` would see it."""

from __future__ import annotations

import fnmatch
import shutil
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)  # (INSTRUCTION, arguments)

    def all(self, instruction: str) -> list[str]:
        return [args for name, args in self.instructions if name == instruction]


def stages(dockerfile: Path) -> list[Stage]:
    """The stages in order; continuation lines joined, comments (and parser directives) dropped."""
    logical: list[str] = []
    pending = ""
    for raw in dockerfile.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1].strip() + " "
            continue
        logical.append(pending + line)
        pending = ""
    found: list[Stage] = []
    for line in logical:
        instruction, _, args = line.partition(" ")
        instruction = instruction.upper()
        if instruction == "FROM":
            parts = args.split()
            name = parts[2] if len(parts) >= 3 and parts[1].upper() == "AS" else None
            found.append(Stage(parts[0], name))
        else:
            found[-1].instructions.append((instruction, args.strip()))
    return found


def ignore_patterns(dockerignore: Path) -> list[str]:
    patterns = []
    for raw in dockerignore.read_text().splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            assert not line.startswith("!"), "exceptions are not understood here"
            patterns.append(line.rstrip("/"))
    return patterns


def _ignored(relative: str, patterns: list[str]) -> bool:
    for pattern in patterns:
        if pattern.startswith("**/"):
            rest = pattern[3:]
            parts = relative.split("/")
            if any(fnmatch.fnmatchcase("/".join(parts[i:]), rest) for i in range(len(parts))):
                return True
        elif fnmatch.fnmatchcase(relative, pattern):
            return True
    return False


def copy_context(root: Path, target: Path) -> None:
    """Copy `root` to `target` minus what .dockerignore leaves out of the build context (a directory that is
    left out takes its contents with it)."""
    patterns = ignore_patterns(root / ".dockerignore")

    def ignore(directory: str, names: list[str]) -> set[str]:
        base = Path(directory).relative_to(root).as_posix()
        prefix = "" if base == "." else base + "/"
        return {name for name in names if _ignored(prefix + name, patterns)}

    shutil.copytree(root, target, ignore=ignore, symlinks=True)
