"""The published npm SDK ``@aigne/aigne-hub`` (pinned in tests/js/package.json) against a live hub and the
fake OpenAI upstream, driven by tests/js_sdk/scenarios.mjs: what an AIGNE app sees, and what the hub logs.

Needs ``node`` and ``tests/js/node_modules`` (``make js``). They are skipped when missing, except where the
environment requires every service (``AIGNE_HUB_REQUIRE_SERVICES=1`` or ``CI=true``): there they fail.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hub_core.testing.fake_openai import PNG_1PX, FakeOpenAI, fake_in_thread
from hub_core.testing.pytest_plugin import make_settings
from hub_core.testing.server import HubServer

TESTS = Path(__file__).parent
SCRIPT = TESTS / "js_sdk" / "scenarios.mjs"
SDK_PACKAGE = TESTS / "js" / "node_modules" / "@aigne" / "aigne-hub" / "package.json"
APP_DID = "zSdkTestApp"
SCENARIOS = [
    "chat",
    "stream",
    "multiturn",
    "tools",
    "agent",
    "json",
    "reasoning",
    "image",
    "video",
    "models",
    "badKey",
    "unknownModel",
    "streamError",
]
#: env the SDK reads that would send it elsewhere (another hub, a vendor, a proxy)
FOREIGN_ENV = (
    "AIGNE_HUB_API_URL",
    "AIGNE_HUB_API_KEY",
    "BLOCKLET_AIGNE_API_URL",
    "BLOCKLET_AIGNE_API_PROVIDER",
    "BLOCKLET_AIGNE_API_MODEL",
    "BLOCKLET_AIGNE_API_CREDENTIAL",
    "ABT_NODE_DID",
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
    "ALL_PROXY",
    "all_proxy",
)


def node_or_skip() -> str:
    node = shutil.which("node")
    if node and SDK_PACKAGE.exists():
        version = json.loads(SDK_PACKAGE.read_text())["version"]
        pinned = json.loads((TESTS / "js" / "package.json").read_text())["dependencies"]["@aigne/aigne-hub"]
        assert version == pinned, f"installed @aigne/aigne-hub {version}, pinned {pinned}: run `make js`"
        return node
    message = "node and tests/js/node_modules are needed for the SDK tests (run `make js`)"
    if os.environ.get("AIGNE_HUB_REQUIRE_SERVICES") == "1" or os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def run_sdk(node: str, origin: str, key: str, *scenarios: str) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if k not in FOREIGN_ENV}
    env.update(HUB_URL=origin, HUB_KEY=key, BLOCKLET_APP_PID=APP_DID)
    proc = subprocess.run(
        [node, str(SCRIPT), *scenarios], env=env, capture_output=True, text=True, timeout=180, check=False
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def node() -> str:
    return node_or_skip()


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeOpenAI]:
    with fake_in_thread() as upstream:
        yield upstream


def start_hub(data_dir: Path, fake: FakeOpenAI, mount_path: str = "") -> HubServer:
    server = HubServer(make_settings(data_dir, mount_path=mount_path)).start()
    server.add_provider("openai", base_url=fake.base_url, credential=fake.api_key)
    return server


@pytest.fixture(scope="module")
def sdk_run(node, fake, tmp_path_factory) -> Iterator[tuple[HubServer, dict[str, Any]]]:
    """One hub at the origin's root; every scenario run once, in one Node process."""
    server = start_hub(tmp_path_factory.mktemp("sdk") / "data", fake)
    try:
        yield server, run_sdk(node, server.url, server.create_key(), *SCENARIOS)
    finally:
        server.stop()


@pytest.fixture
def report(sdk_run) -> dict[str, Any]:
    return sdk_run[1]


def upstream_bodies(fake: FakeOpenAI) -> list[dict[str, Any]]:
    return [r["body"] for r in fake.requests if r["path"] == "/v1/chat/completions"]


def test_non_streaming_chat(report):
    out = report["chat"]
    assert out["text"] == "Echo: Please say hello"
    assert out["model"] == "gpt-4o-mini" and out["modelWithProvider"] == "openai/gpt-4o-mini"
    assert out["usage"]["inputTokens"] > 0 and out["usage"]["outputTokens"] == 4


def test_streaming_chat(report):
    out = report["stream"]
    assert out["textDeltas"] == ["Echo:", " count", " to", " three", " please"]
    assert out["output"]["text"] == "Echo: count to three please"
    assert out["output"]["usage"]["outputTokens"] == 5 and out["output"]["model"] == "gpt-4o-mini"


def test_multi_turn_with_agent_messages(report, fake):
    assert report["multiturn"]["text"] == "Echo: And three plus three?"
    turns = next(b["messages"] for b in upstream_bodies(fake) if len(b["messages"]) == 4)
    assert [m["role"] for m in turns] == ["system", "user", "assistant", "user"]
    assert turns[2]["content"] == "Four."


def test_tool_calls(report):
    first, second = report["tools"]["first"], report["tools"]["second"]
    call = first["toolCalls"][0]
    assert call["function"] == {"name": "get_weather", "arguments": {"city": "Paris"}}
    assert second["text"] == "Echo: What is the weather in Paris?"


def test_agent_loop_runs_the_tool_through_the_hub(report, fake):
    agent = report["agent"]
    assert agent["result"] == {"message": "Echo: weather in Paris?"}
    assert agent["usage"]["inputTokens"] > 0 and agent["usage"]["outputTokens"] > 0
    tool_results = [m for b in upstream_bodies(fake) for m in b["messages"] if m["role"] == "tool"]
    assert any("sunny in Paris" in str(m["content"]) for m in tool_results)


def test_structured_json_output(report):
    assert report["json"]["json"] == {"answer": "Echo: Give me an answer"}


def test_reasoning_as_thoughts(report):
    assert report["reasoning"]["thoughts"] == "Thinking about: think hard"


def test_image_generation(report, sdk_run):
    server, _ = sdk_run
    image = report["image"]
    assert image["asUrl"]["images"][0]["url"].startswith(f"{server.url}/media/")
    assert image["fetched"] == {"status": 200, "type": "image/png"}
    assert image["asFile"] == {"type": "file", "bytes": len(PNG_1PX)}  # the SDK downloaded it without a key


def test_video_generation(report, sdk_run):
    video = report["video"]
    assert video["videos"][0]["url"].startswith(f"{sdk_run[0].url}/media/") and video["seconds"] == 4


def test_model_list(report):
    chat = {m["model"] for m in report["models"]["chat"]}
    assert {"gpt-4o-mini", "gpt-4o"} <= chat
    assert {m["type"] for m in report["models"]["image"]} == {"image_generation"}


def test_the_sdk_raises_the_hubs_messages(report):
    assert report["badKey"]["error"] == "Unauthorized: invalid or missing access key"
    assert report["unknownModel"]["error"] == "Model nonexistent/definitely-not-a-model not found"
    assert "error mid-stream" in report["streamError"]["error"]


def test_every_call_is_logged_with_the_calling_app(sdk_run, report):
    server, _ = sdk_run
    rows = server.wait_for_calls(14)
    assert len(rows) == 14  # every routed call; the bad key never got that far
    assert {r["app_did"] for r in rows} == {APP_DID}
    by_status = {(r["endpoint"], r["status"]) for r in rows}
    assert ("/api/v2/image", "success") in by_status and ("/api/v2/video", "success") in by_status
    chat = next(r for r in rows if r["endpoint"] == "/api/v2/chat" and not r["stream"])
    assert chat["input_tokens"] == report["chat"]["usage"]["inputTokens"]
    assert any(r["stream"] and r["output_tokens"] == 5 for r in rows)


def test_a_hub_mounted_under_a_prefix(node, fake, tmp_path):
    server = start_hub(tmp_path / "data", fake, mount_path="/ai")
    try:
        origin = f"http://127.0.0.1:{server.port}"
        # the SDK is given only the origin (any path is ignored) and finds /ai through discovery
        out = run_sdk(node, origin, server.create_key(), "chat", "stream", "image")
        assert out["chat"]["text"] == "Echo: Please say hello"
        assert out["stream"]["output"]["text"] == "Echo: count to three please"
        assert out["image"]["asUrl"]["images"][0]["url"].startswith(f"{origin}/ai/media/")
        assert out["image"]["fetched"]["status"] == 200
        assert len(server.wait_for_calls(4)) == 4
    finally:
        server.stop()
