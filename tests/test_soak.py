"""The soak's short form in the test suite (docs/security.md, "Memory under load"): `make soak` runs the same
thing for 30 minutes and says whether the hub's memory levels off; here 10 seconds check that mixed load with
abandoned calls is answered without a failure and that the report is made (too short to judge a plateau)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_a_short_soak_with_abandoned_calls_has_no_failure():
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run.py"), "--soak", "10", "--aborts", "0.1", "--no-write"],
        capture_output=True,
        text=True,
        timeout=240,
        cwd=ROOT,
    )
    report = next((line for line in result.stdout.splitlines() if line.startswith("Soak: ")), None)
    assert report is not None, result.stdout[-2000:] + result.stderr[-2000:]
    answered, abandoned, failed = (
        int(n.replace(",", ""))
        for n in re.search(r"([\d,]+) calls answered, ([\d,]+) abandoned, (\d+) failed", report).groups()
    )
    assert answered > 0 and abandoned > 0 and failed == 0, report
    assert "RSS plateaus: **" in report
