"""The load generator: a lean asyncio HTTP/1.1 keep-alive client, one connection per concurrent worker.

Run as its own process (pinned to the other core) with one JSON spec as the argument; prints one JSON result
on stdout. A hand-written client costs far less CPU per request than a general one, so the generator stays
out of the way of what is measured. Every answer is checked (status, complete JSON or a stream ending in
``[DONE]`` with all its events); failures are counted, never timed as successes.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import sys
import time
from dataclasses import dataclass, field
from typing import Any

REQUEST_TIMEOUT = 30.0
#: a hard bound on the requests of one measurement: this many, or MAX_RATE a second for a longer one (a
#: 30-minute soak at 500 calls/s reached a fixed 1,000,000 after 23 minutes and sent nothing after)
MAX_REQUESTS = 1_000_000
MAX_RATE = 2_500
CLK_TCK = os.sysconf("SC_CLK_TCK")


@dataclass
class Spec:
    host: str
    port: int
    path: str
    headers: dict[str, str]
    concurrency: int
    warmup: float
    duration: float
    #: share of requests that are streams (0 = JSON only, 1 = streams only; soak mixes them)
    stream_share: float = 0.0
    min_events: int = 21
    cpu_pids: dict[str, int] = field(default_factory=dict)
    #: soak: print a progress line every this many seconds (0 = never)
    progress: float = 0.0
    #: soak: share of requests the client abandons as soon as the answer starts (a user who gives up)
    abort_share: float = 0.0


class HTTPError(Exception):
    pass


class Connection:
    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, raw: bytes) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port, limit=1 << 20)
        reader, writer = self.reader, self.writer
        assert reader is not None
        writer.write(raw)
        head = await reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length, chunked, close = None, False, False
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding":
                chunked = b"chunked" in value.lower()
            elif name == b"connection":
                close = value.strip().lower() == b"close"
        if chunked:
            parts = []
            while True:
                size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
                if size == 0:
                    await reader.readuntil(b"\r\n")
                    break
                parts.append((await reader.readexactly(size + 2))[:-2])
            body = b"".join(parts)
        elif length is not None:
            body = await reader.readexactly(length)
        else:
            body = await reader.read()
            close = True
        if close:
            self.close()
        return status, body

    async def abandon(self, raw: bytes) -> int:
        """Send the request, read the answer's head and hang up: the status."""
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port, limit=1 << 20)
        assert self.reader is not None
        self.writer.write(raw)
        head = await self.reader.readuntil(b"\r\n\r\n")
        self.close()
        return int(head[9:12])

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


def build_request(spec: Spec, stream: bool) -> bytes:
    body: dict[str, Any] = {
        "model": "openai/gpt-4o-mini",
        "messages": [{"role": "user", "content": "Say hello to the benchmark."}],
    }
    if stream:
        body["stream"] = True
        body["stream_options"] = {"include_usage": True}
    data = json.dumps(body, separators=(",", ":")).encode()
    headers = {
        "Host": f"{spec.host}:{spec.port}",
        "Content-Type": "application/json",
        "Content-Length": str(len(data)),
        **spec.headers,
    }
    head = f"POST {spec.path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    return head.encode() + b"\r\n" + data


def answer_ok(status: int, body: bytes, stream: bool, min_events: int) -> bool:
    if status != 200:
        return False
    if stream:
        return body.endswith(b"data: [DONE]\n\n") and body.count(b"data: ") >= min_events
    return body.startswith(b"{") and b'"choices"' in body and body.endswith(b"}")


def cpu_seconds(pid: int) -> float | None:
    """utime + stime of a process (all its threads), from /proc."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            fields = fh.read().rsplit(b")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK
    except (OSError, IndexError, ValueError):
        return None


def other_threads_cpu_seconds(pid: int) -> float | None:
    """CPU time of a process's threads other than the main one (the SQLite worker, executors)."""
    total = 0.0
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            if int(tid) != pid:
                with open(f"/proc/{pid}/task/{tid}/stat", "rb") as fh:
                    fields = fh.read().rsplit(b")", 1)[1].split()
                total += (int(fields[11]) + int(fields[12])) / CLK_TCK
    except (OSError, ValueError, IndexError):
        return None
    return total


def rss_mb(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


@dataclass
class Window:
    start: float = 0.0
    end: float = float("inf")
    stop: bool = False
    started: int = 0
    latencies: list[float] = field(default_factory=list)
    ok: int = 0
    errors: int = 0
    aborted: int = 0
    last_error: str = ""


async def worker(spec: Spec, win: Window, index: int) -> None:
    conn = Connection(spec.host, spec.port)
    requests = {False: build_request(spec, False), True: build_request(spec, True)}
    # Spread streams evenly over workers and time: worker i sends a stream every 1/share requests.
    period = round(1 / spec.stream_share) if 0 < spec.stream_share < 1 else 0
    # abandoned requests are streams (the answer starts before the call ends), offset from the kept ones
    abort_every = round(1 / spec.abort_share) if spec.abort_share > 0 else 0
    n = index
    max_requests = max(MAX_REQUESTS, int((spec.warmup + spec.duration) * MAX_RATE))
    try:
        while not win.stop and win.started < max_requests:
            stream = spec.stream_share >= 1 or (period > 0 and n % period == 0)
            n += 1
            win.started += 1
            t0 = time.perf_counter()
            if abort_every and n % abort_every == 0:
                try:
                    async with asyncio.timeout(REQUEST_TIMEOUT):
                        status = await conn.abandon(requests[True])
                    if status == 200 and win.start <= time.perf_counter() <= win.end:
                        win.aborted += 1
                except (OSError, asyncio.IncompleteReadError, TimeoutError, ValueError):
                    conn.close()
                continue
            try:
                async with asyncio.timeout(REQUEST_TIMEOUT):
                    status, body = await conn.request(requests[stream])
                good = answer_ok(status, body, stream, spec.min_events)
                error = "" if good else f"HTTP {status}: {body[:200]!r}"
            except (
                OSError,
                asyncio.IncompleteReadError,
                asyncio.LimitOverrunError,
                TimeoutError,
                ValueError,
            ) as exc:
                good, error = False, f"{type(exc).__name__}: {exc}"
                conn.close()
            t1 = time.perf_counter()
            if win.start <= t1 <= win.end:
                if good:
                    win.ok += 1
                    win.latencies.append(t1 - t0)
                else:
                    win.errors += 1
                    win.last_error = error
            if not good:
                await asyncio.sleep(0.01)  # a refusing server must not turn this into a busy loop
    finally:
        conn.close()


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def run(spec: Spec) -> dict[str, Any]:
    win = Window(start=float("inf"))
    tasks = [asyncio.create_task(worker(spec, win, i)) for i in range(spec.concurrency)]
    await asyncio.sleep(spec.warmup)
    cpu0 = {name: cpu_seconds(pid) for name, pid in spec.cpu_pids.items()}
    threads0 = {name: other_threads_cpu_seconds(pid) for name, pid in spec.cpu_pids.items()}
    self0 = resource.getrusage(resource.RUSAGE_SELF)
    win.start = time.perf_counter()
    deadline = win.start + spec.duration
    next_progress = win.start + spec.progress if spec.progress else float("inf")
    while (now := time.perf_counter()) < deadline:
        await asyncio.sleep(min(deadline, next_progress) - now)
        if time.perf_counter() >= next_progress:
            rss = {name: rss_mb(pid) for name, pid in spec.cpu_pids.items()}
            line = {"progress": round(time.perf_counter() - win.start, 1), "ok": win.ok, "rss_mb": rss}
            print(json.dumps(line), file=sys.stderr, flush=True)
            next_progress += spec.progress
    win.end = time.perf_counter()
    cpu1 = {name: cpu_seconds(pid) for name, pid in spec.cpu_pids.items()}
    threads1 = {name: other_threads_cpu_seconds(pid) for name, pid in spec.cpu_pids.items()}
    self1 = resource.getrusage(resource.RUSAGE_SELF)
    win.stop = True
    _, pending = await asyncio.wait(tasks, timeout=REQUEST_TIMEOUT + 5)
    for task in pending:
        task.cancel()
    elapsed = win.end - win.start
    cpu: dict[str, float | None] = {}
    for name in spec.cpu_pids:
        a, b = cpu0[name], cpu1[name]
        cpu[name] = None if a is None or b is None else b - a
    threads: dict[str, float | None] = {}
    for name in spec.cpu_pids:
        a, b = threads0[name], threads1[name]
        threads[name] = None if a is None or b is None else b - a
    cpu["loadgen"] = (self1.ru_utime + self1.ru_stime) - (self0.ru_utime + self0.ru_stime)
    return {
        "ok": win.ok,
        "errors": win.errors,
        "aborted": win.aborted,
        "last_error": win.last_error,
        "seconds": elapsed,
        "rps": win.ok / elapsed if elapsed > 0 else 0.0,
        "p50_ms": _ms(percentile(win.latencies, 0.50)),
        "p99_ms": _ms(percentile(win.latencies, 0.99)),
        "cpu_s": cpu,
        "thread_cpu_s": threads,
        "rss_mb": {name: rss_mb(pid) for name, pid in spec.cpu_pids.items()},
    }


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else seconds * 1000


def main() -> None:
    spec = Spec(**json.loads(sys.argv[1]))
    print(json.dumps(asyncio.run(run(spec))), flush=True)


if __name__ == "__main__":
    main()
