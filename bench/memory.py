"""What instances cost in memory: the process's resident size, and a traced breakdown per cached instance.

Two views, because each misses something the other shows:

* `resident_bytes` is what the operating system charges the process (RSS),
  allocator overhead and fragmentation included. It only grows in steps
  (pages, arenas), and it also holds whatever the bench itself keeps.
* `TracedCost` uses tracemalloc snapshots taken around a sample of instances
  started while tracing: the Python memory those instances still hold once
  they wait, grouped by the part of the code that allocated it. Memory
  allocated before tracing started (instances the sample pushes out of the
  cache) is not traced, so it cannot hide the sample's cost by being freed.
  The history events' own share is measured apart, by walking the cached
  events (`history_bytes`): allocation sites cannot tell an event's strings
  from other strings decoded from the same message.
"""

from __future__ import annotations

import dataclasses
import enum
import gc
import os
import sys
import tracemalloc
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from durable_azure.history import HistoryEvent

# Enough to reach the innermost frame of ours from json or asyncio internals; each frame more slows tracing.
TRACE_FRAMES = 6
_ROOT = Path(__file__).resolve().parent.parent
# Allocation sites are grouped by the innermost frame in one of these folders (first match wins).
_GROUPS = (
    ("connections", _ROOT / "durable_azure" / "azure_storage" / "http_pool.py"),
    ("engine", _ROOT / "durable_azure" / "orchestration"),
    ("worker", _ROOT / "durable_azure" / "worker"),
    ("decoding", _ROOT / "durable_azure" / "azure_storage"),
    ("decoding", _ROOT / "durable_azure" / "history"),
    ("bench", _ROOT / "bench"),
    ("other", _ROOT / "durable_azure"),
)


GROUP_NAMES = ("engine", "worker", "decoding", "other", "connections", "bench")


def resident_bytes() -> float:
    """The process's resident set size now (Linux /proc; NaN elsewhere), after a full garbage collection."""
    gc.collect()
    try:
        with open("/proc/self/statm") as statm:
            return float(int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE"))
    except (OSError, ValueError, IndexError):
        return float("nan")


def history_bytes(histories: Iterable[list[HistoryEvent]]) -> int:
    """Bytes of these event lists and everything the events hold (strings, timestamps, nested values).

    Each object is counted once over all lists; None, booleans, enum members
    and the small integers Python shares are not counted.
    """
    seen: set[int] = set()
    return sum(_deep_size(events, seen) for events in histories)


def _deep_size(value: object, seen: set[int]) -> int:
    if value is None or isinstance(value, bool | enum.Enum) or id(value) in seen:
        return 0
    if isinstance(value, int) and -5 <= value <= 256:
        return 0
    seen.add(id(value))
    children: Iterable[object] = ()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        children = [getattr(value, field.name) for field in dataclasses.fields(value)]
    elif isinstance(value, dict):
        children = [*value.keys(), *value.values()]
    elif isinstance(value, list | tuple):
        children = value
    return sys.getsizeof(value) + sum(_deep_size(child, seen) for child in children)


@dataclass(frozen=True, slots=True, kw_only=True)
class TracedCost:
    """Bytes still allocated after a traced sample, by group (see `_GROUPS`).

    Two groups are not the instances' own: `bench`, the bench's bookkeeping,
    and `connections`, the HTTP pool's, which keeps each connection's receive
    buffer and last reply until its next request: that memory grows with the
    connections in use, not with instances, and is only reshuffled among
    them by the sample.
    """

    by_group: dict[str, int]

    @property
    def instances_bytes(self) -> int:
        """What the runtime holds for the instances: every group but `bench` and `connections`."""
        return sum(size for group, size in self.by_group.items() if group not in ("bench", "connections"))


class MemoryTrace:
    """`start()` tracing, run a warm-up, `mark()`, run the sample, `stop()`: what the sample still holds.

    Only the difference between the mark and the stop counts. The warm-up
    fills, with traced memory, the bounded structures that would otherwise
    charge their growth to the sample: the HTTP connections and their buffers
    (opened up to the number of requests in flight), and `urlsplit`'s cache of
    recent URLs (each counted request adds one and drops the oldest).
    """

    def __init__(self) -> None:
        self._marked: tracemalloc.Snapshot | None = None

    def start(self) -> None:
        tracemalloc.start(TRACE_FRAMES)

    def mark(self) -> None:
        gc.collect()
        self._marked = tracemalloc.take_snapshot()

    def stop(self) -> TracedCost:
        gc.collect()
        try:
            after = tracemalloc.take_snapshot()
        finally:
            tracemalloc.stop()
        assert self._marked is not None, "mark() first"
        by_group = dict.fromkeys(GROUP_NAMES, 0)
        for difference in after.compare_to(self._marked, "traceback"):
            group = _group(difference.traceback)
            by_group[group] += difference.size_diff
        return TracedCost(by_group=by_group)


def _group(traceback: tracemalloc.Traceback) -> str:
    """The group of the innermost frame inside this repository; `other` for allocations from elsewhere only."""
    for frame in reversed(traceback):  # a traceback lists the oldest call first
        path = Path(frame.filename)
        for group, folder in _GROUPS:
            if path.is_relative_to(folder):
                return group
    return "other"
