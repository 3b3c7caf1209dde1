"""pyinstrument profiles of one W1(a) and one W4 run, written as text and HTML (`--profile DIR`).

The profile samples the event-loop thread (async_mode disabled), so it shows
where the bench process's one busy thread spends its time: replay engine,
episode bookkeeping, the storage SDK pipeline, aiohttp, or waiting in select.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.instruments import EngineTimer
from bench.sizes import Sizes
from bench.workloads import w1_throughput
from bench.workloads_long import w4_long_history


async def profile_workloads(connection_string: str, timer: EngineTimer, sizes: Sizes, folder: Path) -> dict[str, Any]:
    try:
        from pyinstrument import Profiler
    except ImportError:
        return {"error": "pyinstrument is not installed: pip install -e '.[bench]'"}
    folder.mkdir(parents=True, exist_ok=True)
    written: dict[str, Any] = {}
    for key, workload in (("W1a", w1_throughput), ("W4", w4_long_history)):
        profiler = Profiler(interval=0.001, async_mode="disabled")
        profiler.start()
        try:
            await workload(connection_string, timer, sizes)
        finally:
            profiler.stop()
        text_path, html_path = folder / f"{key}.txt", folder / f"{key}.html"
        text_path.write_text(profiler.output_text(unicode=False, color=False, show_all=False))
        html_path.write_text(profiler.output_html())
        written[key] = {"text": str(text_path), "html": str(html_path)}
    return written
