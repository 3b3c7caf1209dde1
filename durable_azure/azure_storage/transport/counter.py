"""Counts every request an account sends, by kind, retries included, so benchmarks print requests per step.

DTFx counts its storage calls in `Storage/Table.cs` and friends; here the one
client that sends every request (client.py) counts each attempt under the
request's kind, and separately how many were retries and how many retries
followed an ambiguous attempt (one that may have been applied).
"""

from __future__ import annotations

COUNTER_KEYS = (
    "queue.send",
    "queue.receive",
    "queue.delete",
    "queue.update",
    "table.query",
    "table.batch",
    "table.merge",
    "table.insert",
    "table.update",
    "table.delete",
    "table.get",
    "blob.upload",
    "blob.download",
    "blob.lease",
    "blob.list",
    "blob.delete",
    "other",
)


class RequestCounter:
    """Requests per kind; shared by every request of one StorageAccount."""

    def __init__(self) -> None:
        self._counts: dict[str, int] = dict.fromkeys(COUNTER_KEYS, 0)
        self._retries: dict[str, int] = {}
        self._ambiguous: dict[str, int] = {}

    def snapshot(self) -> dict[str, int]:
        """Attempts sent per kind (every kind present, zero or not)."""
        return dict(self._counts)

    def retries(self) -> dict[str, int]:
        """Attempts that were retries, per kind (only kinds with some)."""
        return dict(self._retries)

    def ambiguous_retries(self) -> dict[str, int]:
        """Retries after an attempt that may have been applied: for a send, a possible duplicate."""
        return dict(self._ambiguous)

    def reset(self) -> None:
        self._counts = dict.fromkeys(COUNTER_KEYS, 0)
        self._retries.clear()
        self._ambiguous.clear()

    @property
    def total(self) -> int:
        return sum(self._counts.values())

    def record(self, kind: str) -> None:
        self._counts[kind] = self._counts.get(kind, 0) + 1

    def record_retry(self, kind: str, *, after_ambiguous: bool) -> None:
        self._retries[kind] = self._retries.get(kind, 0) + 1
        if after_ambiguous:
            self._ambiguous[kind] = self._ambiguous.get(kind, 0) + 1
