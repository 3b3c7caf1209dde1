"""Which external events each instance applied lately, by the envelope's ActivityId, to drop copies.

A queue send whose answer was lost is sent again (transport/request.py,
`Safety.DUPLICATE_DROPPED`), so an event can arrive twice. Replies and starts
carry their own identity (a task id, an execution id) and triage recognises
their copies from history; an EventRaised has none in history, but both copies
carry the same envelope ActivityId, and they arrive together or within
seconds. So each worker remembers the last ActivityIds each instance applied,
in memory, bounded; a copy that arrives after its instance moved to another
worker is not recognised (documented in the README).
"""

from __future__ import annotations

import collections
from collections.abc import Iterable

NO_ACTIVITY_ID = "00000000-0000-0000-0000-000000000000"
"""What an envelope without an ActivityId decodes to: never treated as a copy."""
PER_INSTANCE = 64
MAX_INSTANCES = 10_000


class RecentEvents:
    def __init__(self, *, per_instance: int = PER_INSTANCE, max_instances: int = MAX_INSTANCES) -> None:
        self._seen: collections.OrderedDict[str, collections.deque[str]] = collections.OrderedDict()
        self._per_instance = per_instance
        self._max_instances = max_instances

    def of(self, instance_id: str) -> frozenset[str]:
        seen = self._seen.get(instance_id)
        return frozenset(seen) if seen else frozenset()

    def remember(self, instance_id: str, activity_ids: Iterable[str]) -> None:
        ids = [activity_id for activity_id in activity_ids if activity_id != NO_ACTIVITY_ID]
        if not ids:
            return
        seen = self._seen.get(instance_id)
        if seen is None:
            seen = self._seen[instance_id] = collections.deque(maxlen=self._per_instance)
        self._seen.move_to_end(instance_id)
        seen.extend(ids)
        while len(self._seen) > self._max_instances:
            self._seen.popitem(last=False)

    def forget(self, instance_id: str) -> None:
        self._seen.pop(instance_id, None)
