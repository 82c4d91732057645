"""Model rates: the arithmetic per usage field, the admin API (CRUD, several providers at once, bulk
re-pricing), the CLI, and images and embeddings charged end to end."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from decimal import Decimal
from pathlib import Path

import openai
import pytest
from hub_billing_credits.testing import account, grant

from hub_core.billing import Rate, cost_of, credits_str, from_units, to_units
from hub_core.billing.rates import suggested_rate
from hub_core.testing.billing import call, new_user, ok, set_rate, settled, use_mode
from hub_core.types import Usage

D = Decimal


def rate(kind: str = "chat", read: str | None = None, write: str | None = None) -> Rate:
    return Rate(
        1,
        "p",
        "m",
        kind,
        input_rate=D("0.000002"),
        output_rate=D("0.00001"),
        cache_read_rate=D(read) if read else None,
        cache_write_rate=D(write) if write else None,
    )


@pytest.mark.parametrize(
    ("usage", "kind", "read", "write", "expected"),
    [
        # plain tokens: 1000 x 0.000002 + 500 x 0.00001
        (Usage(input_tokens=1000, output_tokens=500), "chat", None, None, "0.007"),
        # cached prompt tokens are part of input_tokens and priced at the read rate, not twice
        (
            Usage(input_tokens=1000, cached_input_tokens=800, output_tokens=0),
            "chat",
            "0.0000002",
            None,
            "0.00056",
        ),
        # without a read rate, cached tokens cost the input rate (no discount, no double count)
        (Usage(input_tokens=1000, cached_input_tokens=800), "chat", None, None, "0.002"),
        # cache writes at their own rate: 200 plain + 300 written x 0.0000025
        (Usage(input_tokens=500, cache_write_tokens=300), "chat", None, "0.0000025", "0.00115"),
        # reasoning tokens are output tokens already: not charged again
        (Usage(input_tokens=10, output_tokens=100, reasoning_tokens=80), "chat", None, None, "0.00102"),
        # embeddings: input only
        (Usage(input_tokens=1234), "embedding", None, None, "0.002468"),
        # images: per image at the output rate, plus the prompt; output tokens are not per-token priced
        (Usage(input_tokens=10, output_tokens=400, images=3), "image", None, None, "0.00005"),
        # video: per second at the output rate
        (Usage(input_tokens=0, seconds=8.5), "video", None, None, "0.000085"),
    ],
)
def test_cost_per_usage_field(usage, kind, read, write, expected):
    assert cost_of(usage, rate(kind, read, write), kind) == D(expected)


def test_units_are_exact_and_round_half_up_at_ten_decimals():
    assert to_units("0.00000000005") == 1 and to_units("0.00000000004") == 0
    assert from_units(to_units("123.4567890123")) == D("123.4567890123")
    assert credits_str(to_units("2.50")) == "2.5" and credits_str(0) == "0"
    assert to_units(D("0.1") * 3) == 3 * to_units("0.1")


def test_suggested_rate_from_unit_cost_margin_and_credit_price():
    assert suggested_rate(D("0.000002"), D("20"), D("1")) == D("0.0000024")
    assert suggested_rate(D("0.000002"), D("0"), D("0.5")) == D("0.000004")


@pytest.fixture
def admin(hub):
    return lambda method, path, body=None: call(method, f"{hub.url}{path}", hub.admin_key, body)


def test_rates_crud_accepts_the_original_shape_and_refuses_bad_values(hub, admin):
    created = ok(
        admin(
            "POST",
            "/api/ai-providers/model-rates",
            {
                "provider": "openai",
                "model": "gpt-4o",
                "type": "chatCompletion",
                "inputRate": "0.0000025",
                "outputRate": "0.00001",
                "caching": {"readRate": "0.00000125"},
                "unitCosts": {"input": "0.0000025", "output": "0.00001"},
                "modelMetadata": {"maxTokens": 16384},
            },
        )
    )
    assert created["kind"] == "chat" and created["type"] == "chatCompletion"
    assert created["inputRate"] == "0.0000025" and created["caching"]["readRate"] == "0.00000125"
    dup = admin(
        "POST",
        "/api/ai-providers/model-rates",
        {"provider": "openai", "model": "gpt-4o", "inputRate": 1, "outputRate": 1},
    )
    assert dup.status == 409
    bad = admin(
        "POST",
        "/api/ai-providers/model-rates",
        {"provider": "openai", "model": "x", "inputRate": "-1", "outputRate": 1},
    )
    assert bad.status == 400 and "inputRate" in bad.body["error"]["message"]
    bad = admin(
        "POST",
        "/api/ai-providers/model-rates",
        {"provider": "openai", "model": "x", "type": "audio", "outputRate": 1},
    )
    assert bad.status == 400

    rid = created["id"]
    changed = ok(
        admin(
            "PUT",
            f"/api/ai-providers/model-rates/{rid}",
            {"outputRate": "0.00002", "deprecated": True, "deprecatedReason": "old"},
        )
    )
    assert (
        changed["outputRate"] == "0.00002" and changed["deprecated"] and changed["deprecatedReason"] == "old"
    )
    listed = ok(admin("GET", "/api/ai-providers/model-rates?provider=openai&type=chatCompletion"))
    assert listed["count"] == 1 and listed["list"][0]["id"] == rid
    assert ok(admin("DELETE", f"/api/ai-providers/model-rates/{rid}"))
    assert admin("GET", f"/api/ai-providers/model-rates/{rid}").status == 404
    _, member = new_user(hub)
    assert call("GET", f"{hub.url}/api/ai-providers/model-rates", member).status == 403


def test_one_rate_for_several_providers_and_bulk_repricing(hub, admin):
    made = ok(
        admin(
            "POST",
            "/api/ai-providers/model-rates",
            {
                "providers": ["openai", "openrouter"],
                "model": "gpt-4o-mini",
                "inputRate": "1",
                "outputRate": "1",
                "unitCosts": {"input": "0.00000015", "output": "0.0000006"},
            },
        )
    )
    assert [r["provider"] for r in made["list"]] == ["openai", "openrouter"]
    result = ok(
        admin(
            "POST",
            "/api/ai-providers/bulk-rate-update",
            {"profitMargin": 20, "creditPrice": "0.5", "provider": "openai"},
        )
    )
    assert result["updated"] == 1
    repriced = result["list"][0]
    assert repriced["inputRate"] == "0.00000036" and repriced["outputRate"] == "0.00000144"
    other = ok(admin("GET", "/api/ai-providers/model-rates?provider=openrouter"))["list"][0]
    assert other["inputRate"] == "1"


def test_images_and_embeddings_are_charged_per_image_and_per_input_token(hub):
    use_mode(hub, "credits")
    set_rate(hub, "openai", "dall-e-3", "0", "0.04", kind="image")
    set_rate(hub, "openai", "text-embedding-3-small", "0.0000001", "0", kind="embedding")
    user_id, key = new_user(hub)
    grant(hub, user_id, 1)
    sdk = openai.OpenAI(base_url=f"{hub.url}/v1", api_key=key, max_retries=0)
    raw = sdk.images.with_raw_response.generate(model="openai/dall-e-3", prompt="a cat", n=2)
    assert D(raw.headers["x-aigne-hub-credits"]) == D("0.08")
    emb = sdk.embeddings.with_raw_response.create(
        model="openai/text-embedding-3-small", input="one two three"
    )
    tokens = emb.parse().usage.prompt_tokens
    assert D(emb.headers["x-aigne-hub-credits"]) == tokens * D("0.0000001")
    settled(hub)
    assert account(hub, user_id)["balance"] == 1 - D("0.08") - tokens * D("0.0000001")


AIGNE_HUB = Path(sys.executable).parent / "aigne-hub"


def test_rates_and_mode_from_the_cli(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIGNE_HUB_", "BLOCKLET_"))}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # compile once into a private cache, not in every process
    env["PYTHONPYCACHEPREFIX"] = str(Path(tempfile.gettempdir()) / f"aigne-hub-billing-pyc-{os.getuid()}")
    env["AIGNE_HUB_DATA_DIR"] = str(tmp_path / "cli")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(AIGNE_HUB), *args], env=env, capture_output=True, text=True, timeout=60)

    out = run(
        "billing",
        "rates",
        "set",
        "openai",
        "gpt-4o",
        "--input",
        "0.0000025",
        "--output",
        "0.00001",
        "--cache-read",
        "0.00000125",
        "--unit-input",
        "0.0000025",
        "--unit-output",
        "0.00001",
        "--json",
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["caching"]["readRate"] == "0.00000125"
    assert run("billing", "rates", "reprice", "--margin", "100", "--credit-price", "1").returncode == 0
    rows = json.loads(run("billing", "rates", "list", "--json").stdout)
    assert rows[0]["inputRate"] == "0.000005" and rows[0]["outputRate"] == "0.00002"
    assert run("billing", "mode", "credits").returncode == 0
    assert json.loads(run("billing", "mode", "--json").stdout)["active"] == "credits"
    refused = run("billing", "mode", "gold")
    assert refused.returncode != 0 and "gold" in refused.stderr and "Traceback" not in refused.stderr
    assert (
        run("billing", "settings", "--set", "welcome_amount=5", "--set", 'credit_prefix="$"').returncode == 0
    )
    shown = json.loads(run("billing", "settings", "--json").stdout)
    assert shown["welcome_amount"] == "5" and shown["credit_prefix"] == "$"
    bad = run("billing", "settings", "--set", "credit_prefix=£")
    assert bad.returncode != 0 and "credit_prefix" in bad.stderr


def test_rate_catalog_lists_servable_models_and_marks_the_unrated(hub, admin):
    before = ok(admin("GET", "/api/ai-providers/model-rates/catalog"))
    assert before["count"] == len(before["list"]) >= 2
    assert before["unrated"] == before["count"]  # a fresh hub has no rates
    first = before["list"][0]
    assert set(first) == {"provider", "providerDisplayName", "model", "kind", "type", "rated", "rateId"}
    made = ok(
        admin(
            "POST",
            "/api/ai-providers/model-rates",
            {
                "provider": first["provider"],
                "model": first["model"],
                "type": first["type"],
                "inputRate": "1",
                "outputRate": "1",
            },
        )
    )
    # credits mode offers only rated models on /v1/models; the catalog still lists every one
    use_mode(hub, "credits")
    after = ok(admin("GET", "/api/ai-providers/model-rates/catalog"))
    assert after["count"] == before["count"] and after["unrated"] == before["unrated"] - 1
    rated = [e for e in after["list"] if e["rated"]]
    assert [(e["provider"], e["model"], e["rateId"]) for e in rated] == [
        (first["provider"], first["model"], made["id"])
    ]
    assert all(e["rateId"] is None for e in after["list"] if not e["rated"])
    _, member = new_user(hub)
    assert call("GET", f"{hub.url}/api/ai-providers/model-rates/catalog", member).status == 403
