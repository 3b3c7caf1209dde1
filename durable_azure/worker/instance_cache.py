"""Live instances kept in memory between episodes.

Without this, every episode would reload the whole history and replay it from
the first event (what the official Python SDK does, about 300 µs per past
activity). A cached instance keeps its executor, whose generator is suspended
at its last `yield`, plus the history it has written and the sentinel ETag of
that write. The ETag is what keeps this safe: if another worker wrote the
history meanwhile, our next append fails its If-Match and the entry is
evicted, so the next attempt reloads.

Memory is bounded by instance count and by total cached history events; the
least recently used instances go first.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from durable_azure.history import HistoryEvent
from durable_azure.orchestration import OrchestrationExecutor, OrchestrationState


@dataclass(slots=True, kw_only=True)
class CachedInstance:
    executor: OrchestrationExecutor
    execution_id: str
    state: OrchestrationState
    events: list[HistoryEvent] = field(default_factory=list)
    etag: str | None = None
    # What the Instances row shows (status, custom status), so an episode that changes neither skips the write.
    visible_state: tuple[object, str | None] | None = None
    # When this worker last wrote the Instances row: an unchanged row is still rewritten once it gets old.
    instance_written_at: datetime | None = None


class InstanceCache:
    def __init__(self, *, max_instances: int = 1000, max_events: int = 200_000):
        self._entries: OrderedDict[str, CachedInstance] = OrderedDict()
        # Sizes as counted at `put`: the worker extends a cached entry's event list in place during an episode.
        self._sizes: dict[str, int] = {}
        self._max_instances = max_instances
        self._max_events = max_events
        self._event_count = 0

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, instance_id: str) -> CachedInstance | None:
        entry = self._entries.get(instance_id)
        if entry is not None:
            self._entries.move_to_end(instance_id)
        return entry

    def put(self, instance_id: str, entry: CachedInstance) -> None:
        self.evict(instance_id)
        self._entries[instance_id] = entry
        self._sizes[instance_id] = len(entry.events)
        self._event_count += len(entry.events)
        self._shrink()

    def evict(self, instance_id: str) -> None:
        if self._entries.pop(instance_id, None) is not None:
            self._event_count -= self._sizes.pop(instance_id)

    def evict_where(self, predicate: Callable[[str], bool]) -> None:
        for instance_id in [key for key in self._entries if predicate(key)]:
            self.evict(instance_id)

    def _shrink(self) -> None:
        while self._entries and (len(self._entries) > self._max_instances or self._event_count > self._max_events):
            instance_id, _ = self._entries.popitem(last=False)
            self._event_count -= self._sizes.pop(instance_id)
