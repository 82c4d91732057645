"""The console bugs of issue 16, each reproduced in real headless Chromium against a live hub (admin.mjs).

Scenarios run in file order on one hub: the first configures the OpenAI provider (through the form whose
"optional" credential used to be required), later ones build on it.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from hub_core.testing.fake_openai import FakeOpenAI
from hub_core.testing.server import HubServer

from .conftest import ROOT, Browser

pytestmark = pytest.mark.timeout(900)  # the first test may install Chromium and build the console


class AdminBrowser(Browser):
    script = "admin.mjs"


BROWSER = AdminBrowser  # the runner conftest's `browser` fixture makes for this module


def test_first_credential_is_optional(browser: Browser) -> None:
    browser.run("optionalCredential")


def test_refused_first_credential_keeps_the_provider_once(browser: Browser) -> None:
    browser.run("refusedFirstCredential")


def test_switched_off_credential_is_not_failing(browser: Browser) -> None:
    browser.run("switchedOffCredential")


def test_key_role_never_above_its_user(browser: Browser) -> None:
    browser.run("keyRoleLimit")


def test_rates_by_kind(browser: Browser) -> None:
    browser.run("rateKinds")


def test_image_tab_says_the_plugin_is_off(browser: Browser) -> None:
    browser.run("imageTabPluginOff")


def test_billing_mode_is_explained_and_confirmed(browser: Browser) -> None:
    browser.run("billingModeConfirm")


def test_errors_on_a_phone(browser: Browser) -> None:
    browser.run("phoneErrors")


def test_chinese_mode_names_settings_and_roles(browser: Browser) -> None:
    browser.run("chineseLabels")


def member_links(text: str) -> list[str]:
    """The `link` of every `navigation` entry of blocklet.yml that lists no admin role (no YAML library here:
    the entries are `  - id:` blocks with `link:` and an optional `role:` list)."""
    nav = text.split("\nnavigation:\n", 1)[1]
    nav = nav[: next((m.start() for m in re.finditer(r"^\S", nav, re.M)), len(nav))]
    links = []
    for entry in re.split(r"^  - ", nav, flags=re.M)[1:]:
        link = re.search(r"^\s*link: (\S+)", entry, re.M)
        roles = re.search(r"^\s*role:\n((?:\s+- .+\n?)+)", entry, re.M)
        if link and not (roles and re.search(r"- (admin|owner)\b", roles.group(1))):
            links.append(link.group(1))
    return links


def test_member_navigation_from_blocklet_yml(browser: Browser) -> None:
    links = member_links((ROOT / "blocklet.yml").read_text())
    assert links, "blocklet.yml offers members no page"
    browser.extra_env["NAV_LINKS"] = json.dumps(links)
    browser.run("memberNavigation")


def test_playground_parameters_and_code(
    browser: Browser, hub: HubServer, slow_fake: FakeOpenAI, tmp_path: Path
) -> None:
    out = browser.run("playgroundParams")
    code = json.loads(next(line for line in out.splitlines() if line.startswith("{")))["code"]
    sent = [r["body"] for r in slow_fake.requests if r["path"].endswith("/chat/completions")][-1]
    assert sent["messages"][0] == {"role": "system", "content": "be brief"}
    assert (sent["temperature"], sent["max_tokens"], sent["top_p"]) == (0.3, 50, 0.9)
    assert sent["response_format"] == {"type": "json_object"}
    assert sent["tools"][0]["function"]["name"] == "get_weather"
    # each snippet, run as a user would paste it, makes the same call through the hub
    env = {**os.environ, "AIGNE_HUB_KEY": hub.admin_key}
    (tmp_path / "call.mjs").write_text(code["javascript"])
    (tmp_path / "call.py").write_text(code["python"])
    runs = {
        "curl": ["bash", "-c", code["curl"]],
        "python": [sys.executable, str(tmp_path / "call.py")],
        "javascript": ["node", str(tmp_path / "call.mjs")],
    }
    for name, cmd in runs.items():
        before = len(slow_fake.requests)
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, f"{name}: {done.stderr}"
        assert "get_weather" in done.stdout, f"{name} printed {done.stdout!r}"
        again = slow_fake.requests[before:][-1]["body"]
        assert {k: again.get(k) for k in ("temperature", "max_tokens", "top_p", "tools")} == {
            k: sent[k] for k in ("temperature", "max_tokens", "top_p", "tools")
        }, name


def test_dark_mode_and_contrast(browser: Browser) -> None:
    browser.run("themes", timeout=300)


def test_bulk_revoke_disable_and_delete(browser: Browser) -> None:
    browser.run("bulk")


def test_every_save_says_what_it_did(browser: Browser) -> None:
    browser.run("saveFeedback")


def test_rates_page_lists_served_models(browser: Browser) -> None:
    browser.run("servedModels")


def test_buy_credits_page_from_the_402_link(browser: Browser) -> None:
    browser.run("buyCredits", timeout=300)


def test_credits_mode_offers_only_rated_models(browser: Browser) -> None:
    browser.run("ratedModelsOnly")


def test_call_log_estimates_filters_detail_and_csv(browser: Browser) -> None:
    browser.run("callLog")


def test_new_pages_in_both_themes_and_languages(browser: Browser) -> None:
    """Screenshots (docs/ui.md lists them) after the call log above filled the request log."""
    browser.run("newPagesThemed", timeout=400)


def test_console_assets_are_compressed_cached_and_revalidated(browser: Browser) -> None:
    browser.run("assets")


# Last: creating and deleting throwaway providers here made the call-log scenario above miss its aborted
# call when it ran earlier (not understood yet; see the report of the bulk-actions work).
def test_bulk_providers_and_credentials(browser: Browser) -> None:
    browser.run("bulkProviders")
