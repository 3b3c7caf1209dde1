"""Live instances kept in memory between episodes.

Without this, every episode would reload the whole history and replay it from
the first event (what the official Python SDK does, about 300 µs per past
activity). A cached instance keeps its executor, whose generator is suspended
at its last `yield`, plus the history it has written and the sentinel ETag of
that write. The ETag is what keeps this safe: if another worker wrote the
history meanwhile, our next append fails its If-Match and the entry is
evicted, so the next attempt reloads.

Memory is bounded in estimated bytes; the least recently used instances go
first. An evicted instance costs its next episode a history read and a replay
(W8: one query more; the replay ~300 µs per past activity). The estimate is
what the bench's W8 measured with tracemalloc: about 3.5 KB per instance for
the executor, its suspended generator, the two OrchestrationStates (the
executor's and the worker's) and this entry, plus about 200 bytes per history
event and the length of the event's strings. Counting instances or events
instead bounds memory only while payloads stay small: 200,000 events carrying
10 KB results each are 2 GB. What an orchestrator function keeps in its own
local variables is not seen.
"""

from __future__ import annotations

import dataclasses
import typing
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from durable_azure.entities import EntityExecutor
from durable_azure.history import HistoryEvent
from durable_azure.orchestration import OrchestrationExecutor, OrchestrationState
from durable_azure.protocol import ProtocolOrchestrationExecutor

Executor = OrchestrationExecutor | EntityExecutor | ProtocolOrchestrationExecutor
"""What runs an instance's episodes: the replay engine, the SDK's protocol (an unmodified app), or the entity
scheduler for `@name@key` instances."""

INSTANCE_BYTES = 3_500
"""A cached instance beyond its history events (W8 traced 2.8-3.1 KB for an instance waiting on one event)."""

EVENT_BYTES = 200
"""One history event without its strings: the object, its timestamp, the engine's bookkeeping for it (170 bytes
traced per event of a long activity sequence, timestamps shared)."""

DEFAULT_MAX_BYTES = 64 * 1024 * 1024
"""About 15,000 instances waiting on an event, or 300,000 history events with short payloads."""


@dataclass(slots=True, kw_only=True)
class CachedInstance:
    executor: Executor
    execution_id: str
    state: OrchestrationState
    events: list[HistoryEvent] = field(default_factory=list)
    etag: str | None = None
    # What the Instances row shows (status, custom status), so an episode that changes neither skips the write.
    visible_state: tuple[object, str | None] | None = None
    # When this worker last wrote the Instances row: an unchanged row is still rewritten once it gets old.
    instance_written_at: datetime | None = None
    # Set by `InstanceCache.put`: how many of `events` it counted, and the estimate for them and the instance.
    # The worker extends a cached entry's event list in place during an episode, so the next put of the same
    # list counts only the events added since: O(new events), not O(history).
    counted_events: int = 0
    estimated_bytes: int = 0


class InstanceCache:
    def __init__(self, *, max_bytes: int = DEFAULT_MAX_BYTES):
        self._entries: OrderedDict[str, CachedInstance] = OrderedDict()
        self._max_bytes = max_bytes
        self._event_count = 0
        self._estimated_bytes = 0

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, instance_id: object) -> bool:
        """Whether the instance is cached, without marking it as used (unlike `get`)."""
        return instance_id in self._entries

    @property
    def event_count(self) -> int:
        """History events held by all entries, as counted when each was last put."""
        return self._event_count

    @property
    def estimated_bytes(self) -> int:
        """The memory estimate the bound applies to (see the module docstring)."""
        return self._estimated_bytes

    def get(self, instance_id: str) -> CachedInstance | None:
        entry = self._entries.get(instance_id)
        if entry is not None:
            self._entries.move_to_end(instance_id)
        return entry

    def put(self, instance_id: str, entry: CachedInstance) -> None:
        previous = self._entries.get(instance_id)
        self.evict(instance_id)
        _count(entry, previous)
        self._entries[instance_id] = entry
        self._event_count += entry.counted_events
        self._estimated_bytes += entry.estimated_bytes
        self._shrink()

    def evict(self, instance_id: str) -> None:
        entry = self._entries.pop(instance_id, None)
        if entry is not None:
            self._uncount(entry)

    def evict_where(self, predicate: Callable[[str], bool]) -> None:
        for instance_id in [key for key in self._entries if predicate(key)]:
            self.evict(instance_id)

    def _shrink(self) -> None:
        while self._entries and self._estimated_bytes > self._max_bytes:
            _, entry = self._entries.popitem(last=False)
            self._uncount(entry)

    def _uncount(self, entry: CachedInstance) -> None:
        self._event_count -= entry.counted_events
        self._estimated_bytes -= entry.estimated_bytes


def _count(entry: CachedInstance, previous: CachedInstance | None) -> None:
    """Fill in the entry's counts, from the previous entry's when it holds the same (since extended) list."""
    events = entry.events
    if previous is not None and previous.events is events and previous.counted_events <= len(events):
        start, size = previous.counted_events, previous.estimated_bytes
    else:
        start, size = 0, INSTANCE_BYTES
    entry.estimated_bytes = size + sum(_event_bytes(event) for event in events[start:])
    entry.counted_events = len(events)


def _event_bytes(event: HistoryEvent) -> int:
    """EVENT_BYTES plus the characters of the event's strings, those of nested values (failure details, tags) too."""
    text_fields, nested_fields = _fields_of(type(event))
    size = EVENT_BYTES
    for name in text_fields:
        text = getattr(event, name)
        if text is not None:
            size += len(text)
    for name in nested_fields:
        value = getattr(event, name)
        if value is not None:
            size += _nested_length(value)
    return size


def _nested_length(value: object) -> int:
    if isinstance(value, dict):
        return sum(len(str(key)) + len(str(item)) for key, item in value.items())
    texts = [getattr(value, name) for name in _fields_of(type(value))[0]]
    return sum(len(text) for text in texts if text is not None)


_FIELDS: dict[type, tuple[tuple[str, ...], tuple[str, ...]]] = {}


def _fields_of(value_type: type) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """A dataclass's string fields, and its fields holding a dataclass or a dict; worked out once per type."""
    known = _FIELDS.get(value_type)
    if known is None:
        known = _FIELDS[value_type] = _classify_fields(value_type)
    return known


def _classify_fields(value_type: type) -> tuple[tuple[str, ...], tuple[str, ...]]:
    hints = typing.get_type_hints(value_type)
    text_fields: list[str] = []
    nested_fields: list[str] = []
    for item in dataclasses.fields(value_type):
        kinds = typing.get_args(hints[item.name]) or (hints[item.name],)
        if str in kinds:
            text_fields.append(item.name)
        elif any(dataclasses.is_dataclass(kind) or typing.get_origin(kind) is dict for kind in kinds):
            nested_fields.append(item.name)
    return tuple(text_fields), tuple(nested_fields)
