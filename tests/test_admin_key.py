"""The operator provides the owner's first admin key (``AIGNE_HUB_ADMIN_KEY`` or ``..._FILE``), so an
unattended start (a container, a service manager) prints no secret; without it the first start still prints
a one-time key (test_keys). The real ``aigne-hub`` command in a subprocess, as an operator runs it."""

from __future__ import annotations

import re
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent / "plugins"))

from hubtest_plugins.cli import AIGNE_HUB, assert_clean_failure, cli_env, ok, run_cli
from hubtest_plugins.http import call

from hub_core.testing.server import free_port

ANY_KEY = re.compile(r"ahk-[A-Za-z0-9_\-]{20,}")


def operator_key() -> str:
    return "ahk-" + secrets.token_hex(32)  # what the docs suggest: ahk-$(openssl rand -hex 32)


def test_serve_with_a_key_file_prints_no_secret_and_the_key_administers_the_hub(tmp_path):
    key = operator_key()
    key_file = tmp_path / "admin-key"
    key_file.write_text(key + "\n")  # as `echo` or a secret mount leaves it
    port, data, log = free_port(), tmp_path / "data", tmp_path / "serve.out"
    env = cli_env(data, AIGNE_HUB_PORT=str(port), AIGNE_HUB_ADMIN_KEY_FILE=str(key_file))
    with log.open("w") as out:
        proc = subprocess.Popen([str(AIGNE_HUB), "serve"], env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if call("GET", f"{url}/-/health", timeout=2).status == 200:
                    break
            except OSError:
                pass
            assert proc.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "the hub did not come up"
            time.sleep(0.1)
        users = call("GET", f"{url}/api/admin/users", key=key)
        assert users.status == 200
        assert [u["role"] for u in users.body["list"]] == ["owner"]
        signed_in = call("POST", f"{url}/api/auth/session", json_body={"key": key})
        assert signed_in.status == 200 and signed_in.body["isAdmin"] is True
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    output = log.read_text()
    assert key not in output and ANY_KEY.search(output) is None, output
    assert "shown once" not in output


def test_init_with_the_key_in_the_environment_uses_it_only_on_the_first_start(tmp_path):
    data, key = tmp_path / "data", operator_key()
    first = ok(run_cli("init", data_dir=data, env={"AIGNE_HUB_ADMIN_KEY": key}))
    assert "the admin key the operator provided" in first.stdout
    assert ANY_KEY.search(first.stdout + first.stderr) is None

    # A later start with another key neither adds it nor prints anything: the owner exists.
    other = operator_key()
    again = ok(run_cli("keys", "list", "--json", data_dir=data, env={"AIGNE_HUB_ADMIN_KEY": other}))
    assert other not in again.stdout + again.stderr
    assert '"name": "initial admin key"' in again.stdout and again.stdout.count('"role": "owner"') == 1
    assert ANY_KEY.search(again.stderr) is None


def test_without_a_provided_key_the_cli_still_prints_a_one_time_key(tmp_path):
    first = ok(run_cli("init", data_dir=tmp_path / "data"))
    assert "shown once" in first.stdout and len(ANY_KEY.findall(first.stdout)) == 1


def test_a_refused_key_is_a_clean_error_and_leaves_the_hub_uninitialized(tmp_path):
    data = tmp_path / "data"
    short = run_cli("init", data_dir=data, env={"AIGNE_HUB_ADMIN_KEY": "ahk-tooshort"})
    assert_clean_failure(short, "AIGNE_HUB_ADMIN_KEY must be 'ahk-' followed by 32")
    assert "ahk-tooshort" not in short.stderr  # the refused value is not echoed either
    not_ours = run_cli("init", data_dir=data, env={"AIGNE_HUB_ADMIN_KEY": "sk-" + "x" * 60})
    assert_clean_failure(not_ours, "AIGNE_HUB_ADMIN_KEY must be")

    # No owner was created by the refused attempts, so a good key still initializes the hub.
    key = operator_key()
    ok(run_cli("init", data_dir=data, env={"AIGNE_HUB_ADMIN_KEY": key}))
    listed = ok(run_cli("keys", "list", "--json", data_dir=data))
    assert listed.stdout.count('"role": "owner"') == 1


def test_key_settings_that_cannot_work_are_clean_errors(tmp_path):
    data = tmp_path / "data"
    missing = run_cli("init", data_dir=data, env={"AIGNE_HUB_ADMIN_KEY_FILE": str(tmp_path / "nope")})
    assert_clean_failure(missing, "AIGNE_HUB_ADMIN_KEY_FILE: cannot read")
    empty = tmp_path / "empty"
    empty.write_text("\n")
    assert_clean_failure(
        run_cli("init", data_dir=data, env={"AIGNE_HUB_ADMIN_KEY_FILE": str(empty)}), "is empty"
    )
    both = run_cli(
        "init",
        data_dir=data,
        env={"AIGNE_HUB_ADMIN_KEY": operator_key(), "AIGNE_HUB_ADMIN_KEY_FILE": str(empty)},
    )
    assert_clean_failure(both, "not both")
    assert not (data / "hub.db").exists()
