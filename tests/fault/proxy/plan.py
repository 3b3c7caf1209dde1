"""What the fault proxy may do to a request, which requests it aims at, and what it counts.

The proxy's decisions live here, apart from its sockets: the storage services and their ports (ServicePorts),
the faults (Fault), the seeded plan that draws one per request (FaultPlan), the request kinds a plan aims at
(classify, named as durable_azure's request counter names them), and the counters (ProxyStatistics).

Standard library only, plus durable_azure.azurite for ServicePorts.of_azurite: the proxy must not depend on the
storage code it is there to test. Imports nothing else from the proxy package.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from urllib.parse import parse_qs, urlsplit

from durable_azure.azurite import Azurite

SERVICES = ("blob", "queue", "table")
_QUEUE_KINDS = ("queue.send", "queue.receive", "queue.delete", "queue.update")
_TABLE_KINDS = (
    "table.batch",
    "table.query",
    "table.get",
    "table.insert",
    "table.update",
    "table.merge",
    "table.delete",
)
_BLOB_KINDS = ("blob.lease", "blob.upload", "blob.download", "blob.list", "blob.delete")
KINDS = frozenset((*_QUEUE_KINDS, *_TABLE_KINDS, *_BLOB_KINDS, "other"))
OUTAGE = "outage"  # the statistics' fault name for requests reset during begin_outage(); never drawn from a plan


class Fault(StrEnum):
    """What the proxy does to a request instead of relaying it faithfully; one draw picks in this order."""

    BUSY = "busy"
    TIMEOUT = "timeout"
    RESET_BEFORE = "reset_before"
    DROP_AFTER = "drop_after"
    DELAY = "delay"


@dataclass(frozen=True, slots=True)
class ServicePorts:
    """One port per storage service, for the upstream (Azurite) or the proxy's own listeners (0: a free one)."""

    blob: int = 0
    queue: int = 0
    table: int = 0

    @classmethod
    def of_azurite(cls, azurite: Azurite) -> ServicePorts:
        return cls(blob=azurite.blob_port, queue=azurite.queue_port, table=azurite.table_port)

    def of(self, service: str) -> int:
        return int(getattr(self, service))


@dataclass(frozen=True, slots=True, kw_only=True)
class FaultPlan:
    """Which faults to inject and how often; the same seed gives the same sequence of draws.

    `rates` maps a fault to its probability for every request kind; `kind_rates` overrides it, fault by fault,
    for single kinds: FaultPlan(rates={"busy": 0.05}, kind_rates={"table.batch": {"drop_after": 0.1}}) gives
    table batches busy 0.05 and drop_after 0.1, every other kind busy 0.05. One kind's rates add up to at most 1.
    """

    rates: Mapping[str, float] = field(default_factory=dict)
    kind_rates: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    seed: int = 0
    retry_after_seconds: int = 1
    delay_seconds: tuple[float, float] = (0.5, 2.0)

    def __post_init__(self) -> None:
        """Reject typos and impossible numbers: a misspelt kind or fault would otherwise inject nothing, silently."""
        unknown_kinds = set(self.kind_rates) - KINDS
        if unknown_kinds:
            raise ValueError(f"FaultPlan: unknown request kinds {sorted(unknown_kinds)}; known: {sorted(KINDS)}")
        for kind in KINDS:
            rates = self.rates_for(kind)
            if any(not 0.0 <= rate <= 1.0 for rate in rates.values()) or sum(rates.values()) > 1.0 + 1e-9:
                raise ValueError(f"FaultPlan: rates for {kind} must be within [0, 1] and add up to at most 1")
        shortest, longest = self.delay_seconds
        if not 0.0 <= shortest <= longest:
            raise ValueError("FaultPlan: delay_seconds must be (shortest, longest) with 0 <= shortest <= longest")

    def rates_for(self, kind: str) -> dict[Fault, float]:
        """This kind's probability of each fault (ValueError names an unknown fault)."""
        merged = {Fault(name): rate for name, rate in self.rates.items()}
        merged.update({Fault(name): rate for name, rate in self.kind_rates.get(kind, {}).items()})
        return merged

    def choose(self, kind: str, draw: float) -> Fault | None:
        """The fault a uniform draw in [0, 1) picks for this kind, if any."""
        threshold = 0.0
        rates = self.rates_for(kind)
        for fault in Fault:
            threshold += rates.get(fault, 0.0)
            if draw < threshold:
                return fault
        return None


@dataclass(frozen=True, slots=True)
class ProxyStatistics:
    """A snapshot of what the proxy did, for a test to assert on or to print."""

    forwarded: Mapping[str, int]  # kind -> requests relayed upstream (drop_after and delay ones included)
    injected: Mapping[tuple[str, str], int]  # (kind, fault or "outage") -> requests that fault hit
    upstream_errors: Mapping[str, int]  # kind -> requests reset because the upstream refused, reset or hung

    def fault_count(self, fault: str | None = None, kind: str | None = None) -> int:
        """Injected faults, all of them or only one fault and/or one kind."""
        return sum(
            count
            for (counted_kind, counted_fault), count in self.injected.items()
            if fault in (None, counted_fault) and kind in (None, counted_kind)
        )

    def summary(self) -> str:
        """One line for a test's report: requests forwarded and faults injected, per fault."""
        per_fault = Counter[str]()
        for (_, fault), count in self.injected.items():
            per_fault[fault] += count
        faults = ", ".join(f"{fault}={count}" for fault, count in sorted(per_fault.items())) or "none"
        upstream_errors = sum(self.upstream_errors.values())
        return f"forwarded {sum(self.forwarded.values())}, upstream errors {upstream_errors}, faults: {faults}"


class StatisticsRecorder:
    """Counters written on the proxy's loop and read from any thread (FaultProxyThread's callers)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._forwarded = Counter[str]()
        self._injected = Counter[tuple[str, str]]()
        self._upstream_errors = Counter[str]()

    def count_forwarded(self, kind: str) -> None:
        with self._lock:
            self._forwarded[kind] += 1

    def count_fault(self, kind: str, fault: str) -> None:
        with self._lock:
            self._injected[(kind, fault)] += 1

    def count_upstream_error(self, kind: str) -> None:
        with self._lock:
            self._upstream_errors[kind] += 1

    def snapshot(self) -> ProxyStatistics:
        with self._lock:
            return ProxyStatistics(dict(self._forwarded), dict(self._injected), dict(self._upstream_errors))


def classify(service: str, method: str, target: str) -> str:
    """The request kind, as durable_azure's request counter names it (a copy: the proxy must not import it)."""
    parts = urlsplit(target)
    query = {key.lower(): values[-1] for key, values in parse_qs(parts.query).items()}
    if service == "queue":
        return _classify_queue(method, parts.path, query)
    if service == "table":
        return _classify_table(method, parts.path)
    return _classify_blob(method, query)


def _classify_queue(method: str, path: str, query: dict[str, str]) -> str:
    if path.endswith("/messages"):
        if method == "POST":
            return "queue.send"
        if method == "GET" and query.get("peekonly") != "true":
            return "queue.receive"
        return "other"
    if "/messages/" in path:
        return {"DELETE": "queue.delete", "PUT": "queue.update"}.get(method, "other")
    return "other"


def _classify_table(method: str, path: str) -> str:
    last_segment = path.rstrip("/").rsplit("/", 1)[-1]
    if last_segment == "$batch":
        return "table.batch"
    if last_segment.startswith("Tables"):
        return "other"
    if "(" in last_segment and not last_segment.endswith("()"):
        entity_kinds = {"GET": "table.get", "PUT": "table.update", "PATCH": "table.merge", "MERGE": "table.merge"}
        return {**entity_kinds, "DELETE": "table.delete"}.get(method, "other")
    return {"GET": "table.query", "POST": "table.insert"}.get(method, "other")


def _classify_blob(method: str, query: dict[str, str]) -> str:
    component = query.get("comp")
    if component == "lease":
        return "blob.lease"
    if query.get("restype") == "container":
        return "blob.list" if component == "list" else "other"
    if component is None:
        return {"PUT": "blob.upload", "GET": "blob.download", "DELETE": "blob.delete"}.get(method, "other")
    return "other"
