"""The messages entities exchange, in the extension's JSON (EntityScheduler/RequestMessage.cs and friends).

Every message to an entity is an EventRaised on the entity's instance: `op`
(an operation or lock request), `op@<time>` (a request delivered later),
`release` (a lock released) and `continue` (resume after a capped batch). A
response goes back to the caller as an EventRaised named by the request id.

Property names and omitted defaults are the extension's (Newtonsoft, defaults
omitted, `Timestamp`/`Predecessor` in PascalCase and always written), so a .NET
worker or Durable Functions Monitor reads what we write and the other way round.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from durable_azure.entities.entity_id import EntityId

OPERATION_EVENT = "op"
RELEASE_EVENT = "release"
CONTINUE_EVENT = "continue"
LOCK_GRANTED = "Lock Acquisition Completed"

MIN_TIME = datetime(1, 1, 1, tzinfo=UTC)
REORDER_WINDOW = timedelta(minutes=30)
"""`entityMessageReorderWindowInMinutes`: how long a sender is remembered and an out-of-order request waits."""
CHAIN_WINDOW = REORDER_WINDOW / 2
"""How recent a sender's previous request must be for the next one to name it as `Predecessor`.

A receiver forgets a sender silent for a reorder window (`MessageSorter.forget_idle`). A request naming a
predecessor the receiver no longer knows (forgotten, purged, or sent to the same id in another task hub)
would wait the whole window for it; half the window leaves room for the sender's and receiver's clocks to
differ. Past it the request names no predecessor and is delivered on arrival.
"""
_DOTNET_TIME = re.compile(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,7}))?(Z|[+-]\d{2}:\d{2})?$")


def format_time(value: datetime) -> str:
    """.NET's round-trip ("o") form with 7 fractional digits, as the extension writes `Timestamp` and `due`."""
    if value == MIN_TIME:
        return "0001-01-01T00:00:00"
    value = value.astimezone(UTC)
    return f"{value:%Y-%m-%dT%H:%M:%S}.{value.microsecond:06d}0Z"


def parse_time(text: str) -> datetime:
    """A .NET date-time string (with up to 7 fractional digits); one without an offset is UTC."""
    match = _DOTNET_TIME.match(text.strip())
    if match is None:
        raise ValueError(f"not a date-time: {text!r}")
    base, fraction, zone = match.groups()
    parsed = datetime.fromisoformat(
        f"{base}.{(fraction or '0')[:6].ljust(6, '0')}{'' if zone in (None, 'Z') else zone}"
    )
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def scheduled_event_name(delivery_time: datetime) -> str:
    """`op@<time>`: a request the provider delivers at `delivery_time` (a queue visibility delay)."""
    return f"{OPERATION_EVENT}@{format_time(delivery_time)}"


MAX_DELAY = timedelta(days=6)
"""A request due later than this is delivered in hops of 3 days (the queue visibility limit), as the extension does."""


def delivery_time(due: datetime, now: datetime) -> datetime:
    """When a request due at `due` is delivered: then, or in 3 days when it is further off than `MAX_DELAY`."""
    return due if due - now <= MAX_DELAY else now + timedelta(days=3)


def continue_event_name(delivery_time: datetime) -> str:
    """`continue@<time>`: ours, an entity's wake-up at `delivery_time` (a request waits for its predecessor)."""
    return f"{CONTINUE_EVENT}@{format_time(delivery_time)}"


def delivery_time_of(event_name: str) -> datetime | None:
    """The delivery time an `op@<time>` (or our `continue@<time>`) name carries; None for other names."""
    prefix, at, when = event_name.partition("@")
    if not at or prefix not in (OPERATION_EVENT, CONTINUE_EVENT):
        return None
    try:
        return parse_time(when)
    except ValueError:
        return None


def is_request_event(event_name: str) -> bool:
    """Anything named `op…` is a request (the extension's rule)."""
    return event_name.startswith(OPERATION_EVENT)


@dataclass(slots=True, kw_only=True)
class RequestMessage:
    """An operation (or lock) request. `input` is the JSON *text* of the argument, as stored."""

    id: str
    operation: str | None = None
    is_signal: bool = False
    input: str | None = None
    parent: str | None = None
    parent_execution: str | None = None
    due: datetime | None = None
    timestamp: datetime = MIN_TIME
    predecessor: datetime = MIN_TIME
    lockset: list[EntityId] | None = None
    position: int = 0

    @property
    def is_lock_request(self) -> bool:
        return self.lockset is not None

    def to_json(self) -> dict[str, Any]:
        value: dict[str, Any] = {"op": self.operation}
        if self.is_signal:
            value["signal"] = True
        if self.input is not None:
            value["input"] = self.input
        value["id"] = self.id
        if self.parent is not None:
            value["parent"] = self.parent
        if self.parent_execution is not None:
            value["parentExecution"] = self.parent_execution
        if self.due is not None:
            value["due"] = format_time(self.due)
        value["Timestamp"] = format_time(self.timestamp)
        value["Predecessor"] = format_time(self.predecessor)
        if self.lockset is not None:
            value["lockset"] = [entity.to_json() for entity in self.lockset]
        if self.position:
            value["pos"] = self.position
        return value

    def to_text(self) -> str:
        return json.dumps(self.to_json(), separators=(",", ":"))

    @classmethod
    def from_json(cls, value: Any) -> RequestMessage:
        if not isinstance(value, dict) or not isinstance(value.get("id"), str):
            raise ValueError("an entity request needs an 'id'")
        operation = value.get("op")
        lockset = value.get("lockset")
        return cls(
            id=value["id"],
            operation=operation if isinstance(operation, str) else None,
            is_signal=bool(value.get("signal", False)),
            input=_text_or_none(value.get("input")),
            parent=_text_or_none(value.get("parent")),
            parent_execution=_text_or_none(value.get("parentExecution")),
            due=parse_time(value["due"]) if isinstance(value.get("due"), str) else None,
            timestamp=_time_or_min(value.get("Timestamp")),
            predecessor=_time_or_min(value.get("Predecessor")),
            lockset=[EntityId.from_json(item) for item in lockset] if isinstance(lockset, list) else None,
            position=int(value.get("pos") or 0),
        )

    @classmethod
    def from_text(cls, text: str | None) -> RequestMessage:
        if text is None:
            raise ValueError("an entity request has no body")
        return cls.from_json(json.loads(text))


@dataclass(frozen=True, slots=True)
class ResponseMessage:
    """A reply to a call or lock request: `result` is the result's JSON text; `exception_type` marks a failure."""

    result: str | None
    exception_type: str | None = None

    @property
    def is_error(self) -> bool:
        return self.exception_type is not None

    def to_text(self) -> str:
        value: dict[str, Any] = {"result": self.result}
        if self.exception_type is not None:
            value["exceptionType"] = self.exception_type
        return json.dumps(value, separators=(",", ":"))

    @classmethod
    def from_text(cls, text: str | None) -> ResponseMessage:
        value = json.loads(text) if text else {}
        if not isinstance(value, dict):
            raise ValueError("an entity response is a JSON object")
        exception_type = value.get("exceptionType")
        return cls(_text_or_none(value.get("result")), exception_type if isinstance(exception_type, str) else None)


@dataclass(frozen=True, slots=True)
class ReleaseMessage:
    """`release`: the lock owner `parent` leaves the critical section it entered with request `id`."""

    parent: str
    id: str

    def to_text(self) -> str:
        return json.dumps({"parent": self.parent, "id": self.id}, separators=(",", ":"))

    @classmethod
    def from_text(cls, text: str | None) -> ReleaseMessage:
        value = json.loads(text) if text else {}
        return cls(str(value.get("parent") or ""), str(value.get("id") or ""))


@dataclass(slots=True)
class OutgoingStamps:
    """The sender side of the message sorter: a monotonic `Timestamp` per destination, and the previous one.

    Each request names the stamp of the one before it to the same destination
    (`Predecessor`), so the receiver can put one sender's messages back in order
    and recognise a copy (a stamp it has already delivered).
    """

    last_sent: dict[str, datetime] = field(default_factory=dict)

    def stamp(self, destination: str, now: datetime) -> tuple[datetime, datetime]:
        """(timestamp, predecessor) for the next request to `destination`."""
        timestamp, predecessor = next_stamp(self.last_sent.get(destination, MIN_TIME), now)
        self.last_sent[destination] = timestamp
        return timestamp, predecessor


def next_stamp(previous: datetime, now: datetime) -> tuple[datetime, datetime]:
    """(timestamp, predecessor) of a sender's next request to a destination it last stamped `previous`.

    The timestamp always follows `previous`, so the receiver never takes the request for a copy; the
    predecessor is `previous` only within `CHAIN_WINDOW` of it (see there), else `MIN_TIME`.
    """
    timestamp = max(now, previous + timedelta(microseconds=1))
    return timestamp, previous if now - previous < CHAIN_WINDOW else MIN_TIME


def _text_or_none(value: Any) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else json.dumps(value)


def _time_or_min(value: Any) -> datetime:
    if not isinstance(value, str):
        return MIN_TIME
    try:
        return parse_time(value)
    except ValueError:
        return MIN_TIME
