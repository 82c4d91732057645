"""Provider credentials at rest: AES-256-GCM under a master key (key file or ``AIGNE_HUB_SECRET_KEY``), key
ids in every ciphertext, ``aigne-hub secrets rotate`` under a running hub, tamper detection, masked
display."""

from __future__ import annotations

import base64
import json
import os
import sqlite3
import stat
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "plugins"))

from hubtest_plugins.cli import ok, run_cli
from hubtest_plugins.http import call, chat

from hub_core.infra.crypto import Keyring, SecretError, key_id, mask

SECRET = "sk-fake-openai-key"  # what the fake upstream accepts, and what must never be seen again


def credential_rows(data_dir: Path) -> list[tuple[int, str, str]]:
    with sqlite3.connect(data_dir / "hub.db") as conn:
        return list(conn.execute("SELECT id, ciphertext, masked FROM credentials ORDER BY id"))


def key_file(data_dir: Path) -> dict:
    return json.loads((data_dir / "secret.key").read_text())


def test_credentials_are_encrypted_at_rest_with_the_key_id(hub):
    data = hub.settings.data_dir
    ((_, ciphertext, masked),) = credential_rows(data)
    assert SECRET not in ciphertext and masked == "sk…ey"
    version, kid, blob = ciphertext.split(":", 2)
    assert (version, kid) == ("v1", key_file(data)["current"])
    assert len(base64.b64decode(blob)) == 12 + len(json.dumps({"api_key": SECRET})) + 16  # nonce, data, tag
    assert json.loads(Keyring.load(None, data / "secret.key").decrypt(ciphertext)) == {"api_key": SECRET}

    hub.calls()  # flush, so the database files hold everything the hub wrote
    for path in data.glob("hub.db*"):
        assert SECRET.encode() not in path.read_bytes(), f"plaintext secret found in {path.name}"


def test_key_file_is_created_0600_on_first_start_and_reused(
    hub_server_factory, hub_settings, fake_openai_thread
):
    path = hub_settings.data_dir / "secret.key"
    assert not path.exists()
    first = hub_server_factory(hub_settings)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    ring = key_file(hub_settings.data_dir)
    assert list(ring["keys"]) == [ring["current"]]
    assert len(base64.b64decode(ring["keys"][ring["current"]])) == 32  # AES-256
    first.add_provider("openai", base_url=fake_openai_thread.base_url, credential=SECRET)
    key = first.create_key()
    first.stop()

    second = hub_server_factory(hub_settings)  # a restart: same key file, credentials still readable
    assert key_file(hub_settings.data_dir) == ring
    assert chat(second.url, "openai/gpt-4o-mini", key=key).status == 200


def test_secret_key_env_accepts_hex_base64_and_a_passphrase(tmp_path):
    raw = os.urandom(32)
    from_hex = Keyring.load(raw.hex(), tmp_path / "unused.key")
    from_b64 = Keyring.load(base64.b64encode(raw).decode(), tmp_path / "unused.key")
    assert from_hex.keys == from_b64.keys == {key_id(raw): raw}
    passphrase = Keyring.load("correct horse battery staple", tmp_path / "unused.key")
    again = Keyring.load("correct horse battery staple", tmp_path / "unused.key")
    assert passphrase.keys == again.keys and len(passphrase.keys[passphrase.current]) == 32
    assert passphrase.current != from_hex.current
    assert not (tmp_path / "unused.key").exists()  # the variable replaces the key file

    old_token = from_hex.encrypt("value")
    both = Keyring.load(f"my new passphrase, {raw.hex()}", tmp_path / "unused.key")
    assert both.decrypt(old_token) == "value"  # "new,old": the old key still decrypts
    assert Keyring.key_id_of(both.encrypt("x")) == both.current != from_hex.current


def test_a_hub_with_secret_key_env_keeps_its_credentials_across_restarts(
    hub_server_factory, hub_settings, fake_openai_thread
):
    settings = hub_settings.with_(secret_key="a long passphrase for the hub")
    first = hub_server_factory(settings)
    first.add_provider("openai", base_url=fake_openai_thread.base_url, credential=SECRET)
    key = first.create_key()
    assert not (settings.data_dir / "secret.key").exists()
    first.stop()

    assert chat(hub_server_factory(settings).url, "openai/gpt-4o-mini", key=key).status == 200


def test_a_hub_with_the_wrong_master_key_cannot_use_the_credentials(
    hub_server_factory, hub_settings, fake_openai_thread
):
    first = hub_server_factory(hub_settings.with_(secret_key="the right key"))
    first.add_provider("openai", base_url=fake_openai_thread.base_url, credential=SECRET)
    key = first.create_key()
    first.stop()

    wrong = hub_server_factory(hub_settings.with_(secret_key="the wrong key"))
    answer = chat(wrong.url, "openai/gpt-4o-mini", key=key)
    assert answer.status == 503 and answer.error["code"] == "no_active_credential"
    assert len(fake_openai_thread.requests) == 0


def test_secrets_rotate_reencrypts_and_the_running_hub_keeps_working(hub):
    data = hub.settings.data_dir
    old = key_file(data)["current"]
    key = hub.create_key()

    result = ok(run_cli("secrets", "rotate", data_dir=data))
    new = key_file(data)["current"]
    assert new != old
    assert f"Re-encrypted 1 credential(s) under key {new}." in result.stdout
    assert f"Removed old key(s): {old}." in result.stdout
    assert list(key_file(data)["keys"]) == [new]  # the old key is gone from the file
    assert stat.S_IMODE((data / "secret.key").stat().st_mode) == 0o600
    assert [Keyring.key_id_of(c) for _, c, _ in credential_rows(data)] == [new]

    # The hub notices on its next request: calls work, and what it encrypts now uses the new key.
    assert chat(hub.url, "openai/gpt-4o-mini", key=key).status == 200
    provider_id = call("GET", f"{hub.url}/api/ai-providers", key=hub.admin_key).body[0]["id"]
    added = call(
        "POST", f"{hub.url}/api/ai-providers/{provider_id}/credentials", key=hub.admin_key,
        json_body={"value": "sk-second-credential", "name": "second", "verify": False},
    )  # fmt: skip
    assert added.status == 201
    ring = Keyring.load(None, data / "secret.key")
    assert [json.loads(ring.decrypt(c))["api_key"] for _, c, _ in credential_rows(data)] == [
        SECRET,
        "sk-second-credential",
    ]
    assert chat(hub.url, "openai/gpt-4o-mini", key=key).status == 200


def test_secrets_rotate_with_env_keys_moves_everything_to_the_first_key(tmp_path):
    data = tmp_path / "data"
    old, new = "the old passphrase", "the new passphrase"
    ok(run_cli("providers", "add", "openai", data_dir=data, env={"AIGNE_HUB_SECRET_KEY": old}))
    ok(
        run_cli(
            "credentials",
            "add",
            "openai",
            "--value",
            SECRET,
            "--no-verify",
            data_dir=data,
            env={"AIGNE_HUB_SECRET_KEY": old},
        )
    )

    result = ok(run_cli("secrets", "rotate", data_dir=data, env={"AIGNE_HUB_SECRET_KEY": f"{new},{old}"}))
    new_ring = Keyring.load(new, tmp_path / "unused")
    assert f"Re-encrypted 1 credential(s) under key {new_ring.current}." in result.stdout
    ((_, ciphertext, _),) = credential_rows(data)
    assert json.loads(new_ring.decrypt(ciphertext)) == {"api_key": SECRET}
    with pytest.raises(SecretError, match="no master key"):
        Keyring.load(old, tmp_path / "unused").decrypt(ciphertext)
    assert not (data / "secret.key").exists()


def test_tampered_ciphertext_is_rejected(tmp_path):
    ring = Keyring.load(None, tmp_path / "secret.key")
    token = ring.encrypt(json.dumps({"api_key": SECRET}))
    version, kid, blob = token.split(":", 2)
    raw = bytearray(base64.b64decode(blob))
    raw[20] ^= 0x01
    with pytest.raises(SecretError, match="failed authentication"):
        ring.decrypt(f"{version}:{kid}:{base64.b64encode(bytes(raw)).decode()}")
    with pytest.raises(SecretError, match="no master key"):
        ring.decrypt(f"{version}:000000000000:{blob}")
    with pytest.raises(SecretError):
        ring.decrypt("not a ciphertext")


def test_a_tampered_credential_is_never_used(hub, fake_openai_thread):
    from hub_core.db import models as m

    async def tamper() -> None:
        cred = await m.Credential.first()
        head, blob = cred.ciphertext.rsplit(":", 1)
        raw = bytearray(base64.b64decode(blob))
        raw[-1] ^= 0x01
        cred.ciphertext = f"{head}:{base64.b64encode(bytes(raw)).decode()}"
        await cred.save()
        await hub.hub.state.reload()

    hub.run(tamper)
    sent = len(fake_openai_thread.requests)
    answer = chat(hub.url, "openai/gpt-4o-mini", key=hub.create_key())
    assert answer.status == 503 and answer.error["code"] == "no_active_credential"
    assert len(fake_openai_thread.requests) == sent


def test_mask_never_shows_more_than_a_quarter_of_the_secret():
    assert mask("sk-proj-abcdefghijklmnopqrstuvwxyz0123") == "sk-p…0123"
    assert mask("sk-abcdefghijklmnopqrstuvwxy") == "sk-…wxy"
    assert mask(SECRET) == "sk…ey"
    assert mask("12345678") == "1…8"
    assert mask("1234567") == "***"
    for length in range(40):
        secret = "x" * length
        assert len(mask(secret).replace("…", "").strip("*")) <= length // 4


def test_credentials_are_masked_in_the_admin_api_and_the_cli(hub):
    providers = call("GET", f"{hub.url}/api/ai-providers", key=hub.admin_key)
    assert SECRET not in providers.text
    assert providers.body[0]["credentials"][0]["maskedValue"] == "sk…ey"

    provider_id = providers.body[0]["id"]
    other = "sk-another-secret-value-123"
    added = call(
        "POST", f"{hub.url}/api/ai-providers/{provider_id}/credentials", key=hub.admin_key,
        json_body={"value": other, "verify": False},
    )  # fmt: skip
    assert added.status == 201 and other not in added.text and added.body["maskedValue"] == "sk-…123"

    data = hub.settings.data_dir
    table = ok(run_cli("providers", "list", data_dir=data))
    assert "sk…ey" in table.stdout and "sk-…123" in table.stdout
    listed = ok(run_cli("providers", "list", "--json", data_dir=data))
    assert [c["maskedValue"] for c in json.loads(listed.stdout)[0]["credentials"]] == ["sk…ey", "sk-…123"]
    for out in (table, listed):
        assert SECRET not in out.stdout + out.stderr and other not in out.stdout + out.stderr

    third = "sk-third-secret-from-the-cli"
    added_json = ok(
        run_cli("credentials", "add", "openai", "--value", third, "--json", "--no-verify", data_dir=data)
    )
    assert json.loads(added_json.stdout)["maskedValue"] == "sk-…cli"
    added_text = ok(run_cli("credentials", "add", "openai", "--value", third, "--no-verify", data_dir=data))
    assert "sk-…cli" in added_text.stdout
    for out in (added_json, added_text):
        assert third not in out.stdout + out.stderr
