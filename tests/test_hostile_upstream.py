"""The hostile-upstream zoo (issue 15): an upstream that sends an endless line, a huge body, one byte a
second, a reset, junk or an HTML page. Each attack must end as an error the client can read (502/504 in the
API's own shape), be logged as an error, cost the caller nothing it did not get, leave the hub's memory
alone and not stall the calls of everyone else (compared with the same calls without the attack; never
against wall-clock limits)."""

from __future__ import annotations

import json
import statistics
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hub_billing_credits.testing import account, grant

from hub_core.testing.billing import new_user, set_rate, settled, use_mode
from hub_core.testing.server import HubServer

from .hostile_upstream import ATTACKS, HostileOpenAI

EVENT_CAP = 1 << 20
BODY_CAP = 4 << 20
HUGE = 96 << 20


@pytest.fixture(scope="module")
def zoo() -> Iterator[HostileOpenAI]:
    with HostileOpenAI(huge_bytes=HUGE, bulk_bytes=EVENT_CAP).in_thread() as fake:
        yield fake


@pytest.fixture(scope="module")
def hub(zoo: HostileOpenAI, tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubServer]:
    from hub_core.testing.pytest_plugin import make_settings

    settings = make_settings(
        Path(tmp_path_factory.mktemp("zoo")) / "data",
        upstream_max_event_bytes=EVENT_CAP,
        upstream_max_body_bytes=BODY_CAP,
        upstream_first_byte_timeout=3.0,
        upstream_idle_timeout=0.5,
        upstream_total_timeout=20.0,
    )
    server = HubServer(settings).start()
    server.add_provider("openai", base_url=zoo.base_url, credential=zoo.api_key)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def billed(hub: HubServer) -> tuple[int, str]:
    """A user in the credits mode, with rates for every attack, so a wrong charge shows."""
    use_mode(hub, "credits")
    for model in ("gpt-4o-mini", *ATTACKS):
        set_rate(hub, "openai", model, Decimal("0.001"), Decimal("0.002"))
    user_id, key = new_user(hub)
    grant(hub, user_id, 1000)
    return user_id, key


def chat(hub: HubServer, key: str, model: str, stream: bool = False) -> tuple[int, dict[str, Any] | None]:
    """POST a chat call; the HTTP status and the error object the client got (in the body or in-stream)."""
    body = {"model": f"openai/{model}", "messages": [{"role": "user", "content": "hello there"}]}
    if stream:
        body["stream"] = True
    req = urllib.request.Request(
        f"{hub.url}/v1/chat/completions",
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            status, raw = resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read()
    if not stream or status != 200:
        data = json.loads(raw)
        return status, data.get("error")
    for block in raw.split(b"\n\n"):
        if block.startswith(b"data: {") and b'"error"' in block:
            return status, json.loads(block[6:])["error"]
    return status, None


def last_row(hub: HubServer, model: str) -> dict[str, Any]:
    rows = hub.wait_for_calls(1, upstream_model=model)
    return rows[-1]


def rss() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * 4096


class Watch:
    """Samples this process's RSS (the hub runs in a thread of it) while an attack runs."""

    def __init__(self) -> None:
        self.before = rss()
        self.peak = self.before
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.01):
            self.peak = max(self.peak, rss())

    def growth(self) -> int:
        self._stop.set()
        self._thread.join()
        return self.peak - self.before


def latencies(hub: HubServer, key: str, n: int) -> list[float]:
    out = []
    for i in range(n):
        t0 = time.perf_counter()
        status, err = chat(hub, key, "gpt-4o-mini", stream=bool(i % 2))
        out.append(time.perf_counter() - t0)
        assert (status, err) == (200, None)
    return out


def loaded(hub: HubServer, key: str, model: str, stream: bool) -> tuple[float, list[Any]]:
    """The median latency of ordinary calls while a client repeats `model` back to back, and what those
    calls got."""
    stop = threading.Event()
    results: list[Any] = []

    def repeat() -> None:
        while not stop.is_set():
            results.append(chat(hub, key, model, stream))

    thread = threading.Thread(target=repeat, daemon=True)
    thread.start()
    time.sleep(0.2)  # under way
    median = statistics.median(latencies(hub, key, 30))
    stop.set()
    thread.join(60)
    return median, results


def under_attack(hub: HubServer, key: str, model: str, stream: bool) -> tuple[float, list[Any]]:
    """How much slower ordinary calls are while a client repeats the attack `model` than while a client
    repeats an honest stream of as many bytes (``bulk``), and what the attacking calls got. The hub, the fake
    and the clients share one process, so the attack's bytes cost the others some time, as honest bytes do;
    a stall (a parser re-copying its buffer, as before the fix) costs them much more."""
    latencies(hub, key, 4)  # warm up
    honest, _ = loaded(hub, key, "bulk", True)
    attacked, results = loaded(hub, key, model, stream)
    return attacked / honest, results


def no_charge(hub: HubServer, user_id: int, before: dict[str, Any]) -> None:
    settled(hub)
    after = account(hub, user_id)
    assert after["held"] == after["holds"] == 0
    assert after["balance"] == after["ledger"]
    return None


@pytest.mark.parametrize("stream", [True, False], ids=["stream", "json"])
def test_an_endless_line_is_cut_at_the_event_cap(hub, zoo, billed, stream):
    """Before: a 64 MB line took 18.7 s to read and stalled other calls up to 6.7 s; no cap at all."""
    _, key = billed
    watch = Watch()
    ratio, results = under_attack(hub, key, "endless-line", stream)
    growth = watch.growth()
    for status, err in results:
        if stream:
            assert status == 200 and err["code"] == "upstream_event_too_large", err
        else:  # a JSON answer that never ends is capped as a body
            assert status == 502 and err["code"] == "upstream_response_too_large", err
    assert ratio < 4, ratio
    assert growth < 64 << 20, growth
    row = last_row(hub, "endless-line")
    assert (row["status"], row["http_status"], row["credits"]) == ("error", 502, 0)


def test_a_huge_body_is_refused_at_the_body_cap_without_reading_it_all(hub, zoo, billed):
    """Before: a 200 MB answer took the hub from 82 to 659 MB."""
    _, key = billed
    zoo.sent.clear()
    watch = Watch()
    status, err = chat(hub, key, "huge-body")
    growth = watch.growth()
    assert (status, err["code"], err["type"]) == (502, "upstream_response_too_large", "upstream_error")
    assert "4194304" in err["message"] or "4 MB" in err["message"]
    time.sleep(0.2)
    assert zoo.sent["huge-body"] < HUGE // 2  # the hub hung up instead of reading on
    assert growth < HUGE // 2, growth
    row = last_row(hub, "huge-body")
    assert (row["status"], row["http_status"], row["credits"]) == ("error", 502, 0)


@pytest.mark.parametrize("stream", [True, False], ids=["stream", "json"])
def test_a_drip_ends_at_the_idle_timeout(hub, zoo, billed, stream):
    """Before: one byte a second held the call and its credit hold for ever."""
    user_id, key = billed
    status, err = chat(hub, key, "drip", stream)
    assert err is not None and err["code"] == "upstream_timeout", err
    assert status == (200 if stream else 504)
    row = last_row(hub, "drip")
    assert (row["status"], row["http_status"], row["credits"]) == ("error", 504, 0)
    no_charge(hub, user_id, {})


@pytest.mark.parametrize("stream", [True, False], ids=["stream", "json"])
def test_a_reset_is_a_broken_upstream(hub, zoo, billed, stream):
    _, key = billed
    status, err = chat(hub, key, "reset", stream)
    assert err is not None and err["code"] == "upstream_broken", err
    assert status == (200 if stream else 502)
    row = last_row(hub, "reset")
    assert (row["status"], row["http_status"]) == ("error", 502)
    if stream:  # it produced half an answer, charged as what it produced (docs/billing.md)
        assert row["output_tokens"] == 1 and row["credits"] > 0
    else:
        assert row["credits"] == 0


@pytest.mark.parametrize("model", ["junk", "junk-events", "html"])
@pytest.mark.parametrize("stream", [True, False], ids=["stream", "json"])
def test_junk_is_an_error_and_costs_nothing(hub, zoo, billed, model, stream):
    """Before: junk events were passed on, logged as a success and billed."""
    user_id, key = billed
    status, err = chat(hub, key, model, stream)
    assert err is not None and err["code"] == "upstream_malformed", (status, err)
    row = last_row(hub, model)
    assert (row["status"], row["http_status"]) == ("error", 502)
    assert (row["output_tokens"], row["credits"]) == (0, 0)
    no_charge(hub, user_id, {})


def test_a_stream_that_only_named_the_role_costs_nothing(hub, zoo, billed):
    """Before: the role-only first chunk was billed as one output token."""
    _, key = billed
    _, err = chat(hub, key, "role-only", stream=True)
    assert err is not None and err["code"] == "upstream_broken"
    row = last_row(hub, "role-only")
    assert (row["status"], row["output_tokens"], row["credits"]) == ("error", 0, 0)


def test_a_stream_that_never_ends_is_cut_at_the_total_timeout(zoo, tmp_path):
    """Well-formed events at full speed never leave the hub idle: the total timeout ends the call."""
    from hub_core.testing.pytest_plugin import make_settings

    server = HubServer(make_settings(tmp_path / "data", upstream_total_timeout=1.0)).start()
    try:
        server.add_provider("openai", base_url=zoo.base_url, credential=zoo.api_key)
        status, err = chat(server, server.create_key(), "endless-events", stream=True)
        assert (status, err and err["code"]) == (200, "upstream_timeout"), err
        row = last_row(server, "endless-events")
        assert (row["status"], row["http_status"]) == ("error", 504)
        assert "total timeout" in row["error"] and row["output_tokens"] > 0
    finally:
        server.stop()
