"""Runs `peer_dbos.py` in a subprocess and returns its per-run figures, or why it could not run."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.sizes import Sizes

PEER_FIELDS = (
    "repeats",
    "warmup_runs",
    "w1_instances",
    "w1_latency_samples",
    "w2_activities",
    "w3_latency_samples",
    "w3_events",
)


def dbos_installed() -> bool:
    return importlib.util.find_spec("dbos") is not None


def run_peer(sizes: Sizes, timeout: float) -> dict[str, Any]:
    """{"runs": {workload: [figures per run]}} or {"error": reason}; never raises for a peer failure."""
    if not dbos_installed():
        return {"error": "dbos is not installed: pip install -e '.[bench]'"}
    chosen = {name: value for name, value in dataclasses.asdict(sizes).items() if name in PEER_FIELDS}
    with tempfile.TemporaryDirectory(prefix="durable-azure-bench-dbos-") as folder:
        command = [sys.executable, "-m", "bench.peer_dbos", "--sizes", json.dumps(chosen), "--database", folder]
        try:
            completed = subprocess.run(
                command, capture_output=True, text=True, timeout=timeout, cwd=Path(__file__).resolve().parent.parent
            )
        except subprocess.TimeoutExpired:
            return {"error": f"the DBOS peer did not finish within {timeout:g} s"}
    lines = completed.stdout.strip().splitlines()
    if completed.returncode != 0 or not lines:
        return {"error": f"the DBOS peer exited with {completed.returncode}: {completed.stderr.strip()[-500:]}"}
    return {"runs": json.loads(lines[-1])}
