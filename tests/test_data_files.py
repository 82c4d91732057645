"""The data dir is the hub's alone (docs/security.md, "Data files"): the dir 0700, every file in it 0600.

Before, `hub.db` (usage log, e-mail addresses, key hashes, encrypted credentials) was created 0644 under the
default umask, readable by every user of the machine.
"""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from hub_core.infra.files import open_private
from hub_core.web.media import MediaStore

sys.path.insert(0, str(Path(__file__).parent / "plugins"))
from hubtest_plugins.http import call

CHAT = {"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}


@pytest.fixture(autouse=True)
def loose_umask() -> Iterator[None]:
    """The usual umask, which on its own creates files 0644 and dirs 0755."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def modes(root: Path) -> dict[str, int]:
    found = {".": stat.S_IMODE(root.stat().st_mode)}
    for path in root.rglob("*"):
        found[str(path.relative_to(root))] = stat.S_IMODE(path.stat().st_mode)
    return found


def assert_private(root: Path) -> None:
    for name, mode in modes(root).items():
        is_dir = name == "." or (root / name).is_dir()
        assert mode == (0o700 if is_dir else 0o600), (name, oct(mode))


def test_a_served_hub_creates_its_data_dir_0700_and_every_file_0600(
    hub_server_factory, hub_settings, fake_openai_thread
):
    data = hub_settings.data_dir
    assert not data.exists()
    server = hub_server_factory(hub_settings)
    server.add_provider("openai", base_url=fake_openai_thread.base_url, credential=fake_openai_thread.api_key)
    key = server.create_key("k")
    assert call("POST", f"{server.url}/v1/chat/completions", key=key, json_body=CHAT).status == 200
    server.wait_for_calls(1)
    MediaStore(hub_settings.media_dir).save(b"\x89PNG...", "image/png")
    with open_private(data / "usage-rejected.jsonl", "a") as fh:  # how the usage writer appends
        fh.write("{}\n")
    assert {"hub.db", "secret.key", "media", "usage-rejected.jsonl"} <= set(modes(data))
    assert any(name.startswith("hub.db-") for name in modes(data))  # SQLite's -wal/-shm, made beside it
    assert_private(data)


def test_a_data_dir_left_readable_is_tightened_on_start(hub_server_factory, hub_settings):
    data = hub_settings.data_dir
    data.mkdir(mode=0o755)
    os.chmod(data, 0o755)
    first = hub_server_factory(hub_settings)
    first.stop()
    for path in [data, *data.rglob("*")]:
        os.chmod(path, 0o755 if path.is_dir() else 0o644)  # as an older hub (or a copy) left them
    hub_server_factory(hub_settings)
    assert_private(data)
