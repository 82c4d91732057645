"""`python -m hub_core.testing.fake_openai PORT`, the fake upstream people run by hand, answers every route
it has; `/v1/images/edits` used to fail with a 500 because a helper was defined after `__main__`."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest

from hub_core.testing.server import free_port

PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000")


@pytest.fixture
def fake_process() -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "hub_core.testing.fake_openai", str(port)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None and "fake OpenAI on" in proc.stdout.readline()
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _multipart(fields: dict[str, str], files: dict[str, tuple[str, bytes]]) -> tuple[bytes, str]:
    boundary = f"----hubtest{time.monotonic_ns()}"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
        for k, v in fields.items()
    ]
    for name, (filename, data) in files.items():
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
            "Content-Type: image/png\r\n\r\n"
        )
        parts.append(head.encode() + data + b"\r\n")
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def test_run_as_a_program_it_answers_image_edits(fake_process: str) -> None:
    body, content_type = _multipart(
        {"model": "gpt-image-1", "prompt": "add a hat"}, {"image": ("in.png", PNG)}
    )
    req = urllib.request.Request(
        f"{fake_process}/images/edits", data=body, method="POST", headers={"Content-Type": content_type}
    )
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            status, answer = resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        pytest.fail(f"{err.code}: {err.read()[:300]!r}")
    assert status == 200 and answer["data"]
