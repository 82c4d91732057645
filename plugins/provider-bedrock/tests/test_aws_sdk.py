"""Cross-checks against AWS's own code: the official AWS SDK for JavaScript v3
(``@aws-sdk/client-bedrock-runtime``, ``@smithy/signature-v4``) talks to the fake and signs like the plugin.

This is what makes the fake trustworthy: the real SDK's signatures pass its verifier (and a wrong secret fails
the way AWS fails), the real SDK parses its Converse answers, decodes its event streams (CRCs included) and
reads its errors; and the plugin's Authorization header equals the SDK's for the same request. Skipped when
Node.js or the SDK is not installed (the repository's ``tests/js`` has it, or set ``AWS_SDK_NODE_MODULES``).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import hub_provider_bedrock as bedrock
import pytest
from hub_provider_bedrock import sigv4
from yarl import URL

from hub_core import Credential, UpstreamRequest

SCRIPT = Path(__file__).with_name("aws_sdk_check.mjs")


def node_modules() -> Path | None:
    configured = os.environ.get("AWS_SDK_NODE_MODULES")
    candidates = [Path(configured)] if configured else []
    candidates += [parent / "tests" / "js" / "node_modules" for parent in Path(__file__).resolve().parents]
    for path in candidates:
        if (path / "@aws-sdk" / "client-bedrock-runtime").is_dir() and (
            path / "@smithy" / "signature-v4"
        ).is_dir():
            return path
    return None


MODULES = node_modules()
pytestmark = pytest.mark.skipif(
    MODULES is None or shutil.which("node") is None,
    reason="Node.js with the AWS SDK for JavaScript v3 is not installed",
)


def run(mode: str, args: dict[str, Any]) -> dict[str, Any]:
    env = {**os.environ, "AWS_SDK_NODE_MODULES": str(MODULES), "NODE_NO_WARNINGS": "1"}
    done = subprocess.run(
        ["node", str(SCRIPT), mode, json.dumps(args)], capture_output=True, text=True, timeout=60, env=env
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_aws_sdk_accepts_the_fake(provider_fake: Any, fake_module: Any) -> None:
    out = run(
        "calls",
        {
            "endpoint": provider_fake.base_url,
            "region": provider_fake.region,
            "akid": fake_module.ACCESS_KEY_ID,
            "secret": fake_module.SECRET_KEY,
            "model": "us.amazon.nova-lite-v1:0",
        },
    )
    assert out["converse"]["text"] == "Echo: hello there (system: Be brief)"
    assert out["converse"]["stopReason"] == "end_turn" and out["converse"]["usage"]["outputTokens"] == 6
    events = out["events"]
    assert list(events[0]) == ["messageStart"] and list(events[-1]) == ["metadata"]
    deltas = [e["contentBlockDelta"]["delta"] for e in events if "contentBlockDelta" in e]
    assert "".join(d.get("text", "") for d in deltas) == "Echo: hello there (system: Be brief)"
    reasoning = [d["reasoningContent"] for d in deltas if "reasoningContent" in d]
    assert "".join(r.get("text", "") for r in reasoning) == fake_module.REASONING
    assert {"signature": fake_module.SIGNATURE} in reasoning
    assert {"redactedContent": "encrypted thinking"} in reasoning, "the SDK decoded the blob member"
    assert out["wrongSecret"]["name"] == "InvalidSignatureException" and out["wrongSecret"]["status"] == 403
    assert out["throttled"]["name"] == "ThrottlingException" and out["throttled"]["status"] == 429
    assert out["streamError"]["name"] == "ModelStreamErrorException"
    assert len(provider_fake.verified) == 4, "every SDK request but the wrong secret passed the verifier"


@pytest.mark.parametrize(
    ("url", "token"),
    [
        (
            "https://bedrock-runtime.eu-central-1.amazonaws.com/model/us.amazon.nova-lite-v1%3A0/converse",
            None,
        ),
        (
            "https://bedrock-runtime.us-west-2.amazonaws.com/model/arn%3Aaws%3Abedrock%3Aus-west-2%3A1%3A"
            "inference-profile%2Fus.anthropic.claude-3-5-haiku-20241022-v1%3A0/converse-stream",
            "FwoGZXIvYXdzEJr//////////wEaDToken+/=",
        ),
    ],
    ids=["model-id", "profile-arn-with-token"],
)
def test_the_plugin_signs_exactly_as_the_aws_sdk(url: str, token: str | None) -> None:
    region = bedrock.region_from_url(url) or ""
    values = {"access_key_id": "AKIDEXAMPLE", "secret_access_key": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"}
    if token:
        values["session_token"] = token
    req = UpstreamRequest(
        "POST",
        url,
        headers={"Content-Type": "application/json"},
        json={"messages": [{"role": "user", "content": [{"text": "héllo"}]}]},
    )
    when = datetime(2025, 3, 4, 5, 6, 7, tzinfo=UTC)
    sigv4.sign_request(req, Credential(1, "k", values), region, now=when)

    sdk = run(
        "sign",
        {
            "region": region,
            "akid": values["access_key_id"],
            "secret": values["secret_access_key"],
            "token": token,
            "host": req.headers["Host"],
            "path": URL(req.url).raw_path,  # the path as it travels, which both sign
            "headers": {"host": req.headers["Host"], "content-type": "application/json"},
            "body": (req.body or b"").decode(),
            "date": when.isoformat(),
        },
    )
    assert req.headers["Authorization"] == sdk["authorization"]
    assert req.headers["X-Amz-Content-Sha256"] == sdk["headers"]["x-amz-content-sha256"]
