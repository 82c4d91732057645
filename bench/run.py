"""AIGNE Hub benchmark: the hub vs a minimal Quart + Hypercorn pass-through vs the upstream directly.

    .venv/bin/python bench/run.py                # the comparison (3 minutes), writes docs/performance.md
    .venv/bin/python bench/run.py --soak 60      # hub RSS over 60 s of steady load (memory plateau)
    .venv/bin/python bench/run.py --profile DIR  # also sample hub and pass-through with py-spy

Processes: a cheap fake OpenAI upstream and the load generator share one core; the hub (``aigne-hub serve``
with SQLite, key auth, routing and usage logging on) and the pass-through are pinned to the other, one at a
time under load. Everything is bounded in time and every child is stopped on exit or error.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import os
import platform
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
DOC = ROOT / "docs" / "performance.md"
sys.path.insert(0, str(BENCH))

from loadgen import answer_ok, rss_mb  # noqa: E402

PY = sys.executable
TARGETS = ("direct", "passthrough", "hub")
#: measured only when asked for (``--targets raw,passthrough``): the pass-through without Quart
EXTRA_TARGETS = ("raw",)
LABELS = {"direct": "direct", "passthrough": "pass-through", "hub": "hub", "raw": "raw ASGI"}
#: (name, stream?, concurrency)
SCENARIOS = (("json-1", False, 1), ("json-16", False, 16), ("json-64", False, 64), ("stream-16", True, 16))
SCENARIO_LABELS = {
    "json-1": "JSON, 1 client",
    "json-16": "JSON, 16 clients",
    "json-64": "JSON, 64 clients",
    "stream-16": "stream (20 chunks), 16 clients",
}
TARGET_RATIO = 0.70
STREAM_EVENTS = 22  # 20 chunks + the usage chunk + [DONE]


# --- processes --------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def pinned(cpu: int | None) -> Callable[[], None] | None:
    if cpu is None:
        return None
    return lambda: os.sched_setaffinity(0, {cpu})


class Stack:
    """Child processes, stopped in reverse order (SIGTERM, then SIGKILL) however the run ends."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.procs: list[tuple[str, subprocess.Popen[bytes]]] = []

    def spawn(self, name: str, args: list[str], cpu: int | None, env: dict[str, str] | None = None) -> Any:
        log = (self.workdir / f"{name}.log").open("wb")
        proc = subprocess.Popen(
            args, stdout=log, stderr=subprocess.STDOUT, env=env, preexec_fn=pinned(cpu), cwd=ROOT
        )
        log.close()
        self.procs.append((name, proc))
        return proc

    def stop(self, proc: subprocess.Popen[bytes], grace: float = 20.0) -> None:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(grace)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        self.procs = [(n, p) for n, p in self.procs if p is not proc]

    def close(self) -> None:
        for _, proc in reversed(list(self.procs)):
            self.stop(proc, grace=10.0)

    def log_tail(self, name: str, lines: int = 20) -> str:
        path = self.workdir / f"{name}.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""


def post(
    port: int, path: str, body: bytes, headers: dict[str, str], timeout: float = 10.0
) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("POST", path, body, {"Content-Type": "application/json", **headers})
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def wait_ready(stack: Stack, name: str, proc: Any, probe: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited with {proc.returncode}:\n{stack.log_tail(name)}")
        try:
            if probe():
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{name} did not become ready in {timeout:.0f} s:\n{stack.log_tail(name)}")


@dataclass
class Target:
    name: str
    port: int
    headers: dict[str, str]
    pid: int | None  # the process whose CPU is measured (None for direct)


def chat_body(stream: bool) -> bytes:
    body: dict[str, Any] = {"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}
    if stream:
        body |= {"stream": True, "stream_options": {"include_usage": True}}
    return json.dumps(body).encode()


def check_target(target: Target) -> None:
    """One JSON and one streamed call must come back complete before anything is timed."""
    for stream in (False, True):
        status, body = post(target.port, "/v1/chat/completions", chat_body(stream), target.headers)
        if not answer_ok(status, body, stream, STREAM_EVENTS):
            raise RuntimeError(
                f"{target.name}: bad {'stream' if stream else 'JSON'} answer {status}: {body[:300]!r}"
            )


def hub_env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIGNE_HUB_", "BLOCKLET_"))}
    env.update(AIGNE_HUB_DATA_DIR=str(data_dir), AIGNE_HUB_LOG_FORMAT="json")
    return env


def hub_command() -> list[str]:
    """``aigne-hub`` from this interpreter's environment; BENCH_HUB_COMMAND overrides it (for comparing
    variants of the hub, e.g. a wrapper that patches something out)."""
    if override := os.environ.get("BENCH_HUB_COMMAND"):
        return override.split()
    exe = Path(PY).parent / "aigne-hub"
    return [str(exe)] if exe.exists() else [shutil.which("aigne-hub") or "aigne-hub"]


def hub_cli(env: dict[str, str], *args: str) -> str:
    out = subprocess.run(
        [*hub_command(), *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    if out.returncode != 0:
        raise RuntimeError(f"aigne-hub {' '.join(args[:2])} failed:\n{out.stdout}\n{out.stderr}")
    return out.stdout


def start_fake(stack: Stack, cpu: int | None) -> int:
    port = free_port()
    proc = stack.spawn("fake-upstream", [PY, str(BENCH / "fake_upstream.py"), "--port", str(port)], cpu)
    wait_ready(
        stack,
        "fake-upstream",
        proc,
        lambda: post(port, "/v1/chat/completions", chat_body(False), {})[0] == 200,
    )
    return port


def start_hub(stack: Stack, cpu: int | None, fake_port: int) -> tuple[Target, Any, Path]:
    data_dir = stack.workdir / "hub-data"
    env = hub_env(data_dir)
    hub_cli(env, "providers", "add", "openai", "--base-url", f"http://127.0.0.1:{fake_port}/v1")
    hub_cli(env, "credentials", "add", "openai", "--value", "sk-bench-upstream-key")
    key = hub_cli(env, "keys", "create", "--name", "bench", "--role", "member").strip().splitlines()[-1]
    port = free_port()
    proc = stack.spawn("hub", [*hub_command(), "serve", "--host", "127.0.0.1", "--port", str(port)], cpu, env)

    def healthy() -> bool:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        try:
            conn.request("GET", "/-/health")
            return conn.getresponse().status == 200
        finally:
            conn.close()

    wait_ready(stack, "hub", proc, healthy)
    return Target("hub", port, {"Authorization": f"Bearer {key}"}, proc.pid), proc, data_dir


def start_passthrough(stack: Stack, cpu: int | None, fake_port: int, raw: bool = False) -> Target:
    port = free_port()
    name = "raw" if raw else "passthrough"
    args = [
        PY,
        str(BENCH / "passthrough.py"),
        "--port",
        str(port),
        "--upstream",
        f"http://127.0.0.1:{fake_port}/v1",
        *(["--raw"] if raw else []),
    ]
    proc = stack.spawn(name, args, cpu)
    wait_ready(stack, name, proc, lambda: post(port, "/v1/chat/completions", chat_body(False), {})[0] == 200)
    return Target(name, port, {}, proc.pid)


# --- measuring --------------------------------------------------------------------------------------------


def measure(
    target: Target,
    stream_share: float,
    concurrency: int,
    cpu: int | None,
    warmup: float,
    duration: float,
    extra_pids: dict[str, int],
    progress: float = 0.0,
    abort_share: float = 0.0,
) -> dict[str, Any]:
    pids = dict(extra_pids)
    if target.pid is not None:
        pids["server"] = target.pid
    spec = {
        "host": "127.0.0.1",
        "port": target.port,
        "path": "/v1/chat/completions",
        "headers": target.headers,
        "concurrency": concurrency,
        "warmup": warmup,
        "duration": duration,
        "stream_share": stream_share,
        "min_events": STREAM_EVENTS,
        "cpu_pids": pids,
        "progress": progress,
        "abort_share": abort_share,
    }
    proc = subprocess.run(
        [PY, str(BENCH / "loadgen.py"), json.dumps(spec)],
        capture_output=True,
        text=True,
        timeout=warmup + duration + 60,
        preexec_fn=pinned(cpu),
        cwd=ROOT,
    )
    if proc.returncode != 0 or not proc.stdout.strip():
        raise RuntimeError(f"load generator failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["progress"] = [
        json.loads(line) for line in proc.stderr.splitlines() if line.startswith('{"progress"')
    ]
    return result


@contextmanager
def py_spy(pid: int, out: Path, seconds: float) -> Iterator[None]:
    """Sample a process with py-spy (a dev dependency) while the block runs; skipped when unavailable."""
    exe = Path(PY).parent / "py-spy"
    proc = None
    if exe.exists():
        args = [str(exe), "record", "--pid", str(pid), "--duration", str(int(seconds)), "--rate", "200"]
        args += ["--format", "raw", "--output", str(out)]
        proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    else:
        print("  (py-spy not installed: no profile)", flush=True)
    try:
        yield
    finally:
        if proc is not None:
            try:
                proc.wait(seconds + 30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)


#: leaf frames py-spy reports for threads that are only waiting (the SQLite worker, executors, the selector)
IDLE_FRAMES = ("aiosqlite/core.py:59)", "EpollSelector.select", "concurrent/futures/thread.py:81)")


def top_frames(collapsed: Path, limit: int = 25) -> str:
    """Self and inclusive sample shares per function from py-spy's collapsed stacks."""
    if not collapsed.exists():
        return "(no profile)"
    own: dict[str, int] = {}
    incl: dict[str, int] = {}
    total = 0
    for line in collapsed.read_text().splitlines():
        stack, _, count_s = line.rpartition(" ")
        count = int(count_s)
        frames = stack.split(";")
        if any(marker in frames[-1] for marker in IDLE_FRAMES):
            continue  # a thread waiting for work, not CPU
        total += count
        own[frames[-1]] = own.get(frames[-1], 0) + count
        for frame in set(frames):
            incl[frame] = incl.get(frame, 0) + count
    rows = [f"{'self %':>7} {'incl %':>7}  function"]
    for frame, n in sorted(own.items(), key=lambda kv: -kv[1])[:limit]:
        rows.append(f"{100 * n / total:7.1f} {100 * incl[frame] / total:7.1f}  {frame}")
    rows.append("")
    rows.append(f"{'incl %':>7}  function (inclusive, hub_core and framework)")
    for frame, n in sorted(incl.items(), key=lambda kv: -kv[1])[: limit * 2]:
        rows.append(f"{100 * n / total:7.1f}  {frame}")
    return "\n".join(rows)


# --- reporting --------------------------------------------------------------------------------------------


def fmt(value: float | None, digits: int = 0) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def cpu_ms(result: dict[str, Any]) -> float | None:
    server = result["cpu_s"].get("server")
    return None if server is None or not result["ok"] else 1000 * server / result["ok"]


def busy(result: dict[str, Any]) -> str:
    """How busy each measured process was during the window (server, upstream, load generator)."""
    parts = [
        f"{name} {100 * sec / result['seconds']:.0f}%"
        for name, sec in result["cpu_s"].items()
        if sec is not None and result["seconds"]
    ]
    return " ".join(parts)


def thread_ms(result: dict[str, Any]) -> float | None:
    """The part of `cpu_ms` spent outside the event loop's thread (SQLite worker, executors)."""
    threads = result.get("thread_cpu_s", {}).get("server")
    return None if threads is None or not result["ok"] else 1000 * threads / result["ok"]


def ratio(a: float | None, b: float | None) -> float | None:
    return None if not a or not b else a / b


def median(results: dict[str, dict[str, list[dict[str, Any]]]], target: str, scenario: str) -> dict[str, Any]:
    """The median round by throughput (the lower middle one of an even count): what a run typically gets,
    not the round the machine happened to leave alone. One real round, so its latency and CPU agree."""
    rounds = sorted(results[target][scenario], key=lambda r: r["rps"])
    return rounds[(len(rounds) - 1) // 2]


def tables(results: dict[str, dict[str, list[dict[str, Any]]]]) -> str:
    out = [
        "| load | direct | pass-through | hub | hub / pass-through: throughput | by CPU per request |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, stream, _ in SCENARIOS:
        unit = "streams/s" if stream else "req/s"
        d, p, h = (median(results, t, name) for t in TARGETS)
        r = ratio(h["rps"], p["rps"])
        c = ratio(cpu_ms(p), cpu_ms(h))
        out.append(
            f"| {SCENARIO_LABELS[name]} ({unit}) | {fmt(d['rps'])} | {fmt(p['rps'])} | {fmt(h['rps'])} "
            f"| **{fmt(100 * r if r else None)} %** | {fmt(100 * c if c else None)} % |"
        )
    out += [
        "",
        "| latency p50 / p99 (ms) | direct | pass-through | hub |",
        "|---|---:|---:|---:|",
    ]
    for name, _, _ in SCENARIOS:
        cells = [
            f"{fmt(r['p50_ms'], 2)} / {fmt(r['p99_ms'], 2)}"
            for r in (median(results, t, name) for t in TARGETS)
        ]
        out.append(f"| {SCENARIO_LABELS[name]} | {' | '.join(cells)} |")
    out += [
        "",
        "| server CPU per request (ms) | pass-through | hub | hub minus pass-through | hub core busy |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, _, _ in SCENARIOS:
        p, h = median(results, "passthrough", name), median(results, "hub", name)
        pc, hc = cpu_ms(p), cpu_ms(h)
        busy = None if h["cpu_s"].get("server") is None else 100 * h["cpu_s"]["server"] / h["seconds"]
        diff = None if pc is None or hc is None else hc - pc
        out.append(
            f"| {SCENARIO_LABELS[name]} | {fmt(pc, 3)} | {fmt(hc, 3)} | {fmt(diff, 3)} | {fmt(busy)} % |"
        )
    errors = [
        f"{LABELS[t]} {n}: {r['errors']} failed ({r['last_error'][:120]})"
        for t in TARGETS
        for n, _, _ in SCENARIOS
        for r in results[t][n]
        if r["errors"]
    ]
    if errors:
        out += ["", "Failed requests (not counted in throughput):", *[f"- {e}" for e in errors]]
    return "\n".join(out)


def verdict(results: dict[str, dict[str, list[dict[str, Any]]]]) -> tuple[str, bool]:
    lines, ok = [], True
    for name, label in (("json-16", "JSON"), ("stream-16", "streaming")):
        hub, passthrough = median(results, "hub", name), median(results, "passthrough", name)
        r = ratio(hub["rps"], passthrough["rps"]) or 0.0
        c = ratio(cpu_ms(passthrough), cpu_ms(hub)) or 0.0
        met = r >= TARGET_RATIO
        ok &= met
        rounds = ", ".join(f"{100 * x:.0f} %" for x in paired_ratios(results, name))
        lines.append(
            f"- {label}, 16 clients: hub at **{100 * r:.0f} %** of the pass-through's throughput "
            f"(target {100 * TARGET_RATIO:.0f} %): {'met' if met else 'NOT met'}; by CPU per request "
            f"(what one busy core can serve) {100 * c:.0f} %; round by round {rounds}"
        )
    return "\n".join(lines), ok


def paired_ratios(results: dict[str, dict[str, list[dict[str, Any]]]], scenario: str) -> list[float]:
    """Hub / pass-through throughput within each round: the two were measured one after the other, so each
    ratio shows what a single run would have reported, and their spread how much the machine moved."""
    pairs = zip(results["hub"][scenario], results["passthrough"][scenario], strict=False)
    return [h["rps"] / p["rps"] for h, p in pairs if p["rps"]]


def machine_note(cpus: tuple[int | None, int | None], args: argparse.Namespace, soak: bool = False) -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = ", ".join(f"{d} {_version(d)}" for d in ("quart", "hypercorn", "aiohttp", "tortoise-orm"))
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    servers = "hub" if soak else "hub and pass-through"
    pin = (
        f"{servers} pinned to CPU {cpus[0]}; load generator and fake upstream on CPU {cpus[1]}"
        if cpus[0] is not None
        else "no CPU pinning (fewer than two CPUs available)"
    )
    how = (
        "RSS from /proc/<pid>/status."
        if soak
        else f"Each figure is the median of {args.rounds} round(s) of {args.duration:g} s after "
        f"{args.warmup:g} s of warm-up."
    )
    return (
        f"{datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}; {model}, {os.cpu_count()} CPUs, "
        f"{platform.system()} {platform.release()}; Python {platform.python_version()}; {versions}. "
        f"{pin}. Load average at start: {load}. {how}"
    )


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "?"


def replace_section(name: str, body: str) -> None:
    """Rewrite one generated section of docs/performance.md, keeping the hand-written text around it."""
    start, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
    block = f"{start}\n{body.strip()}\n{end}"
    text = DOC.read_text() if DOC.exists() else "# Performance\n"
    if start in text and end in text:
        head, rest = text.split(start, 1)
        text = head + block + rest.split(end, 1)[1]
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    DOC.parent.mkdir(parents=True, exist_ok=True)
    DOC.write_text(text)


# --- modes ------------------------------------------------------------------------------------------------


def cpu_pair() -> tuple[int | None, int | None]:
    cpus = sorted(os.sched_getaffinity(0))
    return (cpus[0], cpus[1]) if len(cpus) >= 2 else (None, None)


def compare(args: argparse.Namespace, stack: Stack) -> int:
    gw_cpu, load_cpu = cpu_pair()
    print(f"starting fake upstream, hub and pass-through (work dir {stack.workdir})", flush=True)
    fake_port = start_fake(stack, load_cpu)
    fake_pid = stack.procs[-1][1].pid
    hub, hub_proc, data_dir = start_hub(stack, gw_cpu, fake_port)
    passthrough = start_passthrough(stack, gw_cpu, fake_port)
    direct = Target("direct", fake_port, {}, None)
    targets = {"direct": direct, "passthrough": passthrough, "hub": hub}
    if args.targets and "raw" in args.targets:
        targets["raw"] = start_passthrough(stack, gw_cpu, fake_port, raw=True)
    for target in targets.values():
        check_target(target)
    note = machine_note((gw_cpu, load_cpu), args)
    results: dict[str, dict[str, list[dict[str, Any]]]] = {
        t: {n: [] for n, _, _ in SCENARIOS} for t in targets
    }
    for rnd in range(args.rounds):
        for name, stream, conc in SCENARIOS:
            if args.scenarios and name not in args.scenarios:
                continue
            for tname in targets:
                if args.targets and tname not in args.targets:
                    continue
                target = targets[tname]
                profiling = args.profile and target.pid and rnd == 0 and conc == 16
                out = Path(args.profile) / f"{tname}-{name}.txt" if profiling else None
                with py_spy(target.pid or 0, out, args.duration) if out else nullcontext():
                    r = measure(
                        target,
                        1.0 if stream else 0.0,
                        conc,
                        load_cpu,
                        args.warmup,
                        args.duration,
                        {"upstream": fake_pid},
                    )
                results[tname][name].append(r)
                print(
                    f"  round {rnd + 1} {name:<10} {LABELS[tname]:<13} {r['rps']:8.0f}/s  "
                    f"p50 {fmt(r['p50_ms'], 2):>6} ms  p99 {fmt(r['p99_ms'], 2):>6} ms  "
                    f"cpu/req {fmt(cpu_ms(r), 3):>6} ms (threads {fmt(thread_ms(r), 3)})  busy {busy(r)}  "
                    f"errors {r['errors']}",
                    flush=True,
                )
    if args.profile:
        for path in Path(args.profile).glob("*-16.txt"):
            path.with_name(path.stem + "-top.txt").write_text(top_frames(path))
        print(f"\nProfiles in {args.profile} (py-spy collapsed stacks and -top.txt summaries)")
    if args.targets or args.scenarios:
        return 0  # a partial run (for profiling): no table, nothing written
    total_hub_ok = sum(r["ok"] + r["errors"] for rs in results["hub"].values() for r in rs)
    stack.stop(hub_proc)  # a clean stop flushes the usage log
    logged = count_usage_rows(data_dir)
    table = tables(results)
    summary, met = verdict(results)
    logged_note = (
        f"Usage logging check: the hub wrote **{logged:,}** usage-log rows for the {total_hub_ok:,} timed "
        f"requests it answered (plus warm-up and checks), every one with its tokens."
    )
    print("\n" + table + "\n\n" + summary + "\n\n" + logged_note + "\n\nMachine: " + note)
    if not args.no_write:
        replace_section("results", f"{summary}\n\n{table}\n\n{logged_note}\n\nMachine: {note}")
        print(f"\nwrote {DOC.relative_to(ROOT)}")
    return 0 if met or not args.strict else 1


def count_usage_rows(data_dir: Path) -> int:
    with sqlite3.connect(data_dir / "hub.db") as conn:
        return int(conn.execute("SELECT COUNT(*) FROM model_calls WHERE input_tokens > 0").fetchone()[0])


#: the most RSS (MB) the second half of a soak may add for memory to count as levelled off
PLATEAU_MB = 2.0


def soak(args: argparse.Namespace, stack: Stack) -> int:
    gw_cpu, load_cpu = cpu_pair()
    load = f"16 clients, one call in four streamed, {args.aborts:.0%} abandoned as the answer starts"
    print(f"soak: {args.soak:g} s of steady load on the hub ({load})", flush=True)
    fake_port = start_fake(stack, load_cpu)
    hub, _, _ = start_hub(stack, gw_cpu, fake_port)
    check_target(hub)
    assert hub.pid is not None
    start_rss = rss_mb(hub.pid)
    every = max(1.0, args.soak / 12)
    r = measure(
        hub, 0.25, 16, load_cpu, 2.0, args.soak, {"hub": hub.pid}, progress=every, abort_share=args.aborts
    )
    samples = [(0.0, 0, start_rss)] + [(p["progress"], p["ok"], p["rss_mb"]["hub"]) for p in r["progress"]]
    if not r["progress"] or r["seconds"] - r["progress"][-1]["progress"] > 0.5:
        samples.append((round(r["seconds"], 1), r["ok"], r["rss_mb"]["hub"]))
    half = [s for s in samples if s[0] >= args.soak / 2]
    growth_late = (half[-1][2] - half[0][2]) if len(half) >= 2 else None
    calls_late = (half[-1][1] - half[0][1]) if len(half) >= 2 else 0
    per_k = growth_late / (calls_late / 1000) if growth_late is not None and calls_late else None
    # levelled off: the second half adds at most PLATEAU_MB (allocator noise), whatever the number of calls,
    # and calls were answered all along it (a load that stopped proves nothing)
    loaded = all(b[1] > a[1] for a, b in itertools.pairwise(half))
    plateau = growth_late is not None and growth_late <= PLATEAU_MB and loaded
    rows = ["| time (s) | calls answered | hub RSS (MB) |", "|---:|---:|---:|"]
    rows += [f"| {t:g} | {n:,} | {fmt(m, 1)} |" for t, n, m in samples]
    peak = max(s[2] for s in samples if s[2] is not None)
    text = (
        f"Soak: {args.soak:g} s at {load}: {r['ok']:,} calls answered, {r.get('aborted', 0):,} abandoned, "
        f"{r['errors']} failed, {r['rps']:.0f} calls/s. Hub RSS {fmt(start_rss, 1)} MB idle after start, "
        f"peak {peak:.1f} MB; change over the second half: {fmt(growth_late, 1)} MB "
        f"({fmt(per_k, 3)} MB per 1,000 calls). RSS plateaus: **{'yes' if plateau else 'no'}** "
        f"(at most {PLATEAU_MB:g} MB over the second half"
        f"{'' if loaded else '; not judged: the load stopped before the end'}).\n\n" + "\n".join(rows)
    )
    print("\n" + text)
    if not args.no_write:
        replace_section("soak", text + f"\n\nMachine: {machine_note((gw_cpu, load_cpu), args, soak=True)}")
        print(f"\nwrote {DOC.relative_to(ROOT)}")
    return 0 if plateau and not r["errors"] else 1


def _names(allowed: Any) -> Callable[[str], list[str]]:
    def parse(text: str) -> list[str]:
        names = [n.strip() for n in text.split(",") if n.strip()]
        unknown = [n for n in names if n not in allowed]
        if unknown:
            raise argparse.ArgumentTypeError(f"unknown {unknown}; choose from {', '.join(allowed)}")
        return names

    return parse


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=float, default=4.0, help="timed seconds per measurement")
    parser.add_argument("--warmup", type=float, default=1.0, help="untimed seconds before each measurement")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of the matrix; median reported")
    parser.add_argument("--soak", type=float, default=0.0, metavar="SECONDS", help="run the soak instead")
    parser.add_argument(
        "--aborts", type=float, default=0.1, metavar="SHARE", help="soak: share of calls the client abandons"
    )
    parser.add_argument("--profile", metavar="DIR", help="record py-spy profiles of the hub into DIR")
    parser.add_argument("--no-write", action="store_true", help="do not rewrite docs/performance.md")
    parser.add_argument("--strict", action="store_true", help="exit 1 when the 70%% target is not met")
    parser.add_argument(
        "--targets", type=_names(TARGETS + EXTRA_TARGETS), help="only these (no report; raw: no Quart)"
    )
    parser.add_argument("--scenarios", type=_names(SCENARIO_LABELS), help="only these loads (no report)")
    args = parser.parse_args()
    args.duration = min(max(args.duration, 1.0), 60.0)
    args.warmup = min(max(args.warmup, 0.0), 10.0)
    args.rounds = min(max(args.rounds, 1), 5)
    args.soak = min(max(args.soak, 0.0), 1800.0)
    args.aborts = min(max(args.aborts, 0.0), 0.5)
    if args.profile:
        Path(args.profile).mkdir(parents=True, exist_ok=True)

    def on_signal(signum: int, _frame: Any) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    with tempfile.TemporaryDirectory(prefix="aigne-hub-bench-") as tmp:
        stack = Stack(Path(tmp))
        try:
            return soak(args, stack) if args.soak else compare(args, stack)
        finally:
            stack.close()


if __name__ == "__main__":
    sys.exit(main())
