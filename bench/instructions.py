"""Instructions per call, counted by valgrind's callgrind: the steady figure for A/B comparisons.

Timings on a shared 2-core machine move by ±5 % between rounds; instruction counts of the same code, inputs
and environment repeat to about 0.1 %, whatever else the machine does. This runs the real server (the hub's
``aigne-hub serve``, or ``bench/passthrough.py``) under callgrind, sends it calls over real keep-alive
sockets with ``bench/loadgen.py``'s client (in this process, which runs natively and is not counted), zeroes
the counters after a warm-up, sends exactly ``--calls`` calls, waits a second for the usage log's writer, and
divides what was counted by the calls. Idle event-loop turns are counted too, but under callgrind the server
is the bottleneck by far, so there are almost none.

Run: ``.venv/bin/python bench/instructions.py [--targets hub,passthrough] [--stream] [--calls 1000]``
(a few minutes per target; needs valgrind). Prints one line per target.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import loadgen
import run as bench


def callgrind(out: Path) -> list[str]:
    return ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", "--dump-instr=no"]


def control(*args: str) -> None:
    subprocess.run(["callgrind_control", *args], check=True, capture_output=True, timeout=300)


def total_instructions(out_prefix: Path) -> int:
    """The sum of the `totals:` (or `summary:`) lines of every dump callgrind wrote since the zeroing."""
    total = 0
    for path in out_prefix.parent.glob(out_prefix.name + "*"):
        for line in path.read_text(errors="replace").splitlines():
            if line.startswith(("totals:", "summary:")):
                total += int(line.split()[1])
                break
    return total


def measure(
    stack: bench.Stack,
    name: str,
    argv: list[str],
    env: dict[str, str] | None,
    port: int,
    headers: dict[str, str],
    args: argparse.Namespace,
) -> None:
    out = stack.workdir / f"{name}.cg"
    proc = stack.spawn(name, [*callgrind(out), *argv], None, env)
    try:
        deadline = time.monotonic() + 600
        while True:
            try:
                if bench.post(port, "/v1/chat/completions", bench.chat_body(args.stream), headers)[0] == 200:
                    break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{name} did not start under callgrind:\n{stack.log_tail(name)}")
            time.sleep(1)
        send(port, headers, args, args.warmup)
        for old in stack.workdir.glob(f"{name}.cg*"):
            old.unlink()
        control("-z", str(proc.pid))
        send(port, headers, args, args.calls)
        time.sleep(1.0)  # the usage log writes its batch
        control("-d", str(proc.pid))
        per_call = total_instructions(out) / args.calls
        kind = "stream" if args.stream else "JSON call"
        print(f"{name}: {per_call:,.0f} instructions per {kind} ({args.calls} calls)")
    finally:
        stack.stop(proc, grace=60.0)


def send(port: int, headers: dict[str, str], args: argparse.Namespace, calls: int) -> None:
    """Exactly `calls` calls over `args.concurrency` keep-alive connections; every answer checked."""
    spec = loadgen.Spec("127.0.0.1", port, "/v1/chat/completions", headers, args.concurrency, 0, 0)
    raw = loadgen.build_request(spec, args.stream)
    left = calls

    async def worker() -> None:
        nonlocal left
        conn = loadgen.Connection("127.0.0.1", port)
        try:
            while left > 0:
                left -= 1
                status, body = await conn.request(raw)
                if not loadgen.answer_ok(status, body, args.stream, bench.STREAM_EVENTS):
                    raise RuntimeError(f"bad answer {status}: {body[:300]!r}")
        finally:
            conn.close()

    async def run() -> None:
        await asyncio.gather(*(worker() for _ in range(args.concurrency)))

    asyncio.run(run())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--targets", default="hub,passthrough")
    parser.add_argument("--stream", action="store_true", help="20-chunk streams instead of JSON calls")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--warmup", type=int, default=300, help="calls before counting starts")
    parser.add_argument("--calls", type=int, default=1000, help="calls counted")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="aigne-hub-icount-") as tmp:
        work = Path(tmp)
        stack = bench.Stack(work)
        try:
            targets(stack, work, args)
        finally:
            stack.close()


def targets(stack: bench.Stack, work: Path, args: argparse.Namespace) -> None:
    fake = bench.start_fake(stack, None)
    for name in args.targets.split(","):
        port = bench.free_port()
        if name == "hub":
            env = bench.hub_env(work / "hub-data")
            bench.hub_cli(env, "providers", "add", "openai", "--base-url", f"http://127.0.0.1:{fake}/v1")
            bench.hub_cli(env, "credentials", "add", "openai", "--value", "sk-bench-upstream-key")
            out = bench.hub_cli(env, "keys", "create", "--name", "bench", "--role", "member")
            key = out.strip().splitlines()[-1]
            # the console script run by the interpreter itself: valgrind needs the binary
            script = str(Path(bench.PY).parent / "aigne-hub")
            argv = [bench.PY, script, "serve", "--host", "127.0.0.1", "--port", str(port)]
            measure(stack, name, argv, env, port, {"Authorization": f"Bearer {key}"}, args)
        else:
            upstream = f"http://127.0.0.1:{fake}/v1"
            argv = [
                bench.PY,
                str(bench.BENCH / "passthrough.py"),
                "--port",
                str(port),
                "--upstream",
                upstream,
            ]
            if name == "raw":
                argv.append("--raw")
            measure(stack, name, argv, None, port, {}, args)


if __name__ == "__main__":
    main()
