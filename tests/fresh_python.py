"""Run Python in a fresh interpreter, for checks of what a process loads or readies: in the
test run itself, everything other tests touched is already in memory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def environment() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    return env


def run_python(*arguments: str, cwd: Path = ROOT, timeout: float = 60) -> str:
    """Run ``python ARGUMENTS`` with this checkout importable; its standard output, once it
    has exited 0 without a traceback."""
    finished = subprocess.run(
        [sys.executable, *arguments],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
        env=environment(),
    )
    assert finished.returncode == 0, finished.stderr
    assert "Traceback" not in finished.stderr, finished.stderr
    return finished.stdout


def last_json(output: str) -> Any:
    """The JSON report a probe prints as its last line."""
    return json.loads(output.strip().splitlines()[-1])
