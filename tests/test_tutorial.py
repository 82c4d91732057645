"""The tutorial of docs/plugins.md, run as written: each ``tutorial-file`` block becomes a module, loaded into
a hub with `hub_core.testing.register_plugin` and used the way its section says."""

from __future__ import annotations

import ast
import importlib.util
import json
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from types import ModuleType

import pytest
from aiohttp import web

from hub_core.testing import FakeOpenAI, hub_client, register_plugin

sys.path.insert(0, str(Path(__file__).parent / "plugins"))

from hubtest_plugins.tutorial import tutorial_files

ROOT = Path(__file__).resolve().parent.parent
PUBLIC = {"hub_core", "hub_core.providers", "hub_core.billing", "hub_core.web", "hub_core.testing"}


@pytest.fixture(scope="module")
def tutorial(tmp_path_factory: pytest.TempPathFactory) -> dict[str, ModuleType]:
    folder = tmp_path_factory.mktemp("tutorial")
    modules = {}
    for filename, code in tutorial_files().items():
        path = folder / filename
        path.write_text(code)
        spec = importlib.util.spec_from_file_location(path.stem, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[path.stem] = module
        spec.loader.exec_module(module)
        modules[path.stem] = module
    yield modules
    for name in modules:
        sys.modules.pop(name, None)


def test_the_tutorial_has_its_plugins_and_they_use_only_the_public_api() -> None:
    files = tutorial_files()
    assert set(files) == {
        "hub_provider_acme.py",
        "hub_provider_parrot.py",
        "hub_auth_org.py",
        "hub_usage_jsonl.py",
    }
    for filename, code in files.items():
        for node in ast.walk(ast.parse(code)):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("hub_core"):
                assert node.module in PUBLIC, f"{filename} imports {node.module}"


async def test_an_openai_compatible_provider_routes_its_models(tutorial: dict[str, ModuleType]) -> None:
    async with FakeOpenAI() as fake:
        with register_plugin(tutorial["hub_provider_acme"], "acme"):
            async with hub_client(only=()) as hub:
                await hub.add_provider("acme", base_url=fake.base_url, credential=fake.api_key)
                key = await hub.create_key()
                body = {"model": "acme/acme-large", "messages": [{"role": "user", "content": "hi"}]}
                answer = await hub.post("/v1/chat/completions", key=key, json=body)
                assert answer.status_code == 200, await answer.get_data()
                assert (await answer.get_json())["choices"][0]["message"]["content"] == "Echo: hi"
                assert fake.requests[-1]["body"]["model"] == "acme-large"
                plugins = await (await hub.get("/-/plugins", key=hub.admin_key)).get_json()
                assert {"name": "acme", "kind": "provider"}.items() <= next(
                    p for p in plugins if p["name"] == "acme"
                ).items()


@asynccontextmanager
async def fake_parrot() -> AsyncIterator[tuple[str, list[dict]]]:
    """Parrot's API as the tutorial describes it, on a real socket; yields its base URL and the requests."""
    seen: list[dict] = []

    async def generate(request: web.Request) -> web.StreamResponse:
        if request.headers.get("X-Parrot-Key") != "parrot-key":
            return web.json_response({"message": "bad key"}, status=401)
        body = await request.json()
        seen.append(body)
        words = ["Polly", "says:", *body["turns"][-1]["text"].split()][: body.get("max_words", 99)]
        done = {
            "done": True,
            "words_in": sum(len(t["text"].split()) for t in body["turns"]),
            "words_out": len(words),
        }
        if not body["stream"]:
            return web.json_response({"text": " ".join(words), **done})
        response = web.StreamResponse(headers={"Content-Type": "application/x-ndjson"})
        await response.prepare(request)
        for i, word in enumerate(words):
            await response.write(json.dumps({"delta": word if i == 0 else " " + word}).encode() + b"\n")
        await response.write(json.dumps(done).encode() + b"\n")
        return response

    app = web.Application()
    app.router.add_post("/generate", generate)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    try:
        yield f"http://{host}:{port}", seen
    finally:
        await runner.cleanup()


async def test_a_provider_with_its_own_wire_format_translates_both_ways(
    tutorial: dict[str, ModuleType],
) -> None:
    async with fake_parrot() as (base_url, seen):
        with register_plugin(tutorial["hub_provider_parrot"], "parrot"):
            async with hub_client(only=()) as hub:
                await hub.add_provider("parrot", base_url=base_url, credential="parrot-key")
                key = await hub.create_key()
                ask = {"model": "parrot/parrot-1", "messages": [{"role": "user", "content": "hello there"}]}
                answer = await hub.post("/v1/chat/completions", key=key, json={**ask, "max_tokens": 3})
                assert answer.status_code == 200, await answer.get_data()
                reply = await answer.get_json()
                assert reply["choices"][0]["message"]["content"] == "Polly says: hello"
                assert reply["usage"]["prompt_tokens"] == 2 and reply["usage"]["completion_tokens"] == 3
                assert seen[-1] == {
                    "model": "parrot-1",
                    "turns": [{"who": "user", "text": "hello there"}],
                    "stream": False,
                    "max_words": 3,
                }

                streamed = await hub.post("/v1/chat/completions", key=key, json={**ask, "stream": True})
                events = [
                    json.loads(line[6:])
                    for line in (await streamed.get_data()).decode().splitlines()
                    if line.startswith("data: {")
                ]
                text = "".join(e["choices"][0]["delta"].get("content") or "" for e in events if e["choices"])
                assert text == "Polly says: hello there"
                # the AIGNE dialect reads the same translated answer
                aigne = await hub.post(
                    "/api/v2/chat",
                    key=key,
                    json={
                        "input": {"messages": ask["messages"], "modelOptions": {"model": "parrot/parrot-1"}}
                    },
                )
                assert (await aigne.get_json())["text"] == "Polly says: hello there"
                rows = await hub.calls()
                assert [(r["stream"], r["input_tokens"], r["output_tokens"]) for r in rows] == [
                    (False, 2, 3),
                    (True, 2, 4),
                    (False, 2, 4),
                ]


async def test_an_auth_plugin_signs_users_in_and_maps_them(tutorial: dict[str, ModuleType]) -> None:
    org = tutorial["hub_auth_org"]
    secret = "s3cret-s3cret-s3cret"
    with register_plugin(org, "org"):
        async with hub_client(only=()) as hub:
            saved = await hub.request(
                "PUT", "/api/admin/plugins/org/config", key=hub.admin_key, json={"secret": secret}
            )
            assert saved.status_code == 200, await saved.get_data()
            shown = await (await hub.get("/api/admin/plugins/org/config", key=hub.admin_key)).get_json()
            assert secret not in json.dumps(shown)  # a writeOnly field is shown masked

            signed = {"X-Org-User": f"ada.{org.sign('ada', secret)}"}
            first = await hub.get("/api/user/info", headers=signed)
            again = await hub.get("/api/user/info", headers=signed)
            assert first.status_code == again.status_code == 200, await first.get_data()
            hub.activate()
            user = await hub.hub.users.find(identity=(org.ISSUER, "ada"))
            assert user is not None and user.name == "ada"  # created once, then mapped
            forged = await hub.get("/api/user/info", headers={"X-Org-User": "ada.00"})
            assert forged.status_code == 401
            assert (await hub.get("/api/user/info")).status_code == 401  # no header, no key: refused


async def test_a_usage_observer_writes_every_call(tutorial: dict[str, ModuleType]) -> None:
    async with FakeOpenAI() as fake:
        with register_plugin(tutorial["hub_usage_jsonl"], "usage_jsonl"):
            async with hub_client(only=("openai",)) as hub:
                await hub.add_provider("openai", base_url=fake.base_url, credential=fake.api_key)
                key = await hub.create_key()
                for stream in (False, True):
                    body = {
                        "model": "openai/gpt-4o-mini",
                        "messages": [{"role": "user", "content": "count me"}],
                        "stream": stream,
                    }
                    answer = await hub.post("/v1/chat/completions", key=key, json=body)
                    assert answer.status_code == 200
                    await answer.get_data()
                await hub.calls()  # the observers have run
                path = Path(hub.hub.settings.data_dir) / "usage.jsonl"
                lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [(line["model"], line["status"]) for line in lines] == [("openai/gpt-4o-mini", "success")] * 2
    assert all(line["output_tokens"] > 0 for line in lines)
