"""Discovery, the public model list, availability, the caller's info, and the whole hub (every blueprint)
mounted under a path prefix."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import openai
import pytest

from hub_core.testing.pytest_plugin import make_settings

HUB_DID = "z8ia3xzq2tMq8CRHfaXj1BTYJyYnEcHbqP8cJ"


def fetch(url: str, body: Any = None, headers: dict[str, str] | None = None) -> tuple[int, str, bytes]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(
        url, data=data, headers={"Content-Type": "application/json", **(headers or {})}
    )
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, resp.headers.get("Content-Type", ""), resp.read()
    except urllib.error.HTTPError as err:
        return err.code, err.headers.get("Content-Type", ""), err.read()


def fetch_json(url: str, body: Any = None, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    status, _, raw = fetch(url, body, headers)
    return status, json.loads(raw)


def check_sdk_model_entry(entry: dict[str, Any]) -> None:
    """The zod schema of @aigne/aigne-hub's models() helper, in Python."""
    for key in (
        "model",
        "type",
        "provider",
        "providerDisplayName",
        "input_credits_per_token",
        "output_credits_per_token",
    ):
        assert isinstance(entry[key], str), key
    assert entry["modelMetadata"] is None or isinstance(entry["modelMetadata"], dict)
    assert entry["status"] is None or isinstance(entry["status"].get("available"), bool)


def test_discovery_document(hub):
    status, doc = fetch_json(f"{hub.url}/__blocklet__.js?type=json")
    assert status == 200
    assert {"did": HUB_DID, "mountPoint": "/"}.items() <= doc["componentMountPoints"][0].items()
    status, ctype, raw = fetch(f"{hub.url}/__blocklet__.js")
    assert ctype.startswith("application/javascript") and raw.startswith(b"window.blocklet = ")


def test_model_list_is_public_and_validates_as_the_sdk_expects(hub):
    status, models = fetch_json(f"{hub.url}/api/ai/models")  # no key
    assert status == 200 and isinstance(models, list) and models
    for entry in models:
        check_sdk_model_entry(entry)
        assert entry["input_credits_per_token"] == entry["output_credits_per_token"] == "0"  # billing off
        assert entry["key"] == f"{entry['provider']}/{entry['model']}"
    assert {"openai/gpt-4o-mini", "openai/text-embedding-3-small", "openai/dall-e-3"} <= {
        m["key"] for m in models
    }
    _, images = fetch_json(f"{hub.url}/api/ai/models?type=image")
    assert {m["type"] for m in images} == {"image_generation"} and "dall-e-3" in {m["model"] for m in images}
    _, chats = fetch_json(f"{hub.url}/api/ai-providers/models?type=chatCompletion")
    assert {m["type"] for m in chats} == {"chat"}
    status, err = fetch_json(f"{hub.url}/api/ai/models?type=music")
    assert status == 400 and "type must be one of" in err["error"]["message"]


def test_a_mode_that_requires_rates_lists_only_rated_models(hub):
    """Issue 16: in credits mode the pricing page showed unrated models at 0 credits and the playground
    offered them, though calling them gives 400. Both lists now leave them out."""
    from hub_core.testing.billing import set_rate, use_mode

    def listed() -> tuple[set[str], set[str]]:
        _, public = fetch_json(f"{hub.url}/api/ai-providers/models")
        _, v1 = fetch_json(f"{hub.url}/v1/models", headers={"Authorization": f"Bearer {hub.admin_key}"})
        return {m["key"] for m in public}, {m["id"] for m in v1["data"]}

    everything, _ = listed()
    assert "openai/gpt-4o" in everything
    set_rate(hub, "openai", "gpt-4o-mini", "0.000001", "0.000002")
    use_mode(hub, "credits")
    assert listed() == ({"openai/gpt-4o-mini"}, {"openai/gpt-4o-mini"})
    use_mode(hub, "free", only_rated_models=True)
    assert listed() == ({"openai/gpt-4o-mini"}, {"openai/gpt-4o-mini"})
    use_mode(hub, "free", only_rated_models=False)
    assert listed()[0] == everything


def test_status(hub, hub_server_factory, tmp_path, monkeypatch):
    assert fetch_json(f"{hub.url}/api/v2/status") == (200, {"available": True})
    assert fetch_json(f"{hub.url}/api/v2/status?model=openai/gpt-4o")[1] == {"available": True}
    _, body = fetch_json(f"{hub.url}/api/v2/status?model=nobody/model-x")
    assert body["available"] is False and body["code"] == 404 and "not found" in body["error"]
    key = {"Authorization": f"Bearer {hub.create_key()}"}
    assert fetch_json(f"{hub.url}/api/v2/status?model=openai/gpt-4o", headers=key)[1] == {"available": True}
    _, body = fetch_json(f"{hub.url}/api/v2/status", headers={"Authorization": "Bearer wrong"})
    assert body["available"] is False and body["code"] == 401
    # a hub whose only provider plugin has no credential (Ollama, which needs none, left out)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    empty = hub_server_factory(make_settings(tmp_path / "empty", load_plugins=frozenset({"openai"})))
    _, body = fetch_json(f"{empty.url}/api/v2/status")
    assert body == {
        "available": False,
        "error": "No providers available",
        "code": 503,
        "type": "no_providers",
    }


def test_user_info(hub):
    status, err = fetch_json(f"{hub.url}/api/user/info")
    assert status == 401 and err["error"]["message"].startswith("Unauthorized")
    key = hub.create_key("Ada")
    status, info = fetch_json(f"{hub.url}/api/user/info", headers={"Authorization": f"Bearer {key}"})
    assert status == 200
    assert info["user"]["fullName"] == "Ada" and info["user"]["did"].startswith("z")
    assert info["creditBalance"] is None and info["paymentLink"] is None and info["enableCredit"] is False


@pytest.fixture
def mounted(hub_server_factory, tmp_path, fake_openai_thread):
    server = hub_server_factory(make_settings(tmp_path / "mounted", mount_path="/ai/hub"))
    server.add_provider("openai", base_url=fake_openai_thread.base_url, credential=fake_openai_thread.api_key)
    return server


def test_every_route_works_under_a_mount_path(mounted):
    origin, base = f"http://127.0.0.1:{mounted.port}", mounted.url
    assert base == f"{origin}/ai/hub"
    # discovery: at the origin (where clients look) and under the prefix, both naming the mount point
    for url in (f"{origin}/__blocklet__.js?type=json", f"{base}/__blocklet__.js?type=json"):
        assert fetch_json(url)[1]["componentMountPoints"][0]["mountPoint"] == "/ai/hub"
    key = mounted.create_key()
    auth = {"Authorization": f"Bearer {key}"}
    # the OpenAI dialect
    client = openai.OpenAI(base_url=f"{base}/v1", api_key=key, max_retries=0)
    reply = client.chat.completions.create(
        model="openai/gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]
    )
    assert reply.choices[0].message.content == "Echo: hi"
    with pytest.raises(openai.NotFoundError):
        openai.OpenAI(base_url=f"{origin}/v1", api_key=key, max_retries=0).models.list()
    # the AIGNE dialect, its media links and its public routes
    body = {
        "input": {
            "messages": [{"role": "user", "content": "hi"}],
            "modelOptions": {"model": "openai/gpt-4o-mini"},
        }
    }
    assert fetch_json(f"{base}/api/v2/chat", body, auth)[1]["text"] == "Echo: hi"
    assert fetch(f"{origin}/api/v2/chat", body, auth)[0] == 404
    _, image = fetch_json(
        f"{base}/api/v2/image", {"input": {"prompt": "x", "modelOptions": {"model": "openai/dall-e-2"}}}, auth
    )
    url = image["images"][0]["url"]
    assert url.startswith(f"{base}/media/") and fetch(url)[0] == 200
    assert fetch(f"{base}/api/ai/models")[0] == 200 and fetch(f"{base}/api/v2/status")[0] == 200
    # introspection, admin API and the console
    assert fetch(f"{base}/-/health")[0] == 200 and fetch(f"{origin}/-/health")[0] == 404
    admin = {"Authorization": f"Bearer {mounted.admin_key}"}
    assert fetch(f"{base}/api/admin/users", headers=admin)[0] == 200
    assert fetch(f"{base}/-/plugins", headers=admin)[0] == 200
    status, ctype, _ = fetch(f"{base}/")
    assert status == 200 and ctype.startswith("text/html")
    assert len(mounted.wait_for_calls(3)) == 3
