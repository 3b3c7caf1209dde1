"""The one codec of history events: PascalCase wire members (`to_wire`/`from_wire`) and DTFx JSON.

The queue envelope and the History-table rows are built from `to_wire`; the
HTTP history view and tests use `to_json`. Field knowledge (names and kinds)
comes from `events.py`, never repeated here.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from enum import IntEnum
from typing import Any

from durable_azure.history.events import (
    _BOOL,
    _FAILURE,
    _INSTANCE,
    _INT,
    _PARENT,
    _STATUS,
    _TAGS,
    _TIME,
    _WIRE_FIELDS,
    COMPLEX_KINDS,
    EVENT_CLASSES,
    EventType,
    FailureDetails,
    HistoryEvent,
    OrchestrationInstance,
    OrchestrationStatus,
    ParentInstance,
)


def to_wire(event: HistoryEvent) -> dict[str, Any]:
    """PascalCase members with Python values: datetimes, enum members, nested dicts.

    Both storage codecs start from this: the queue envelope turns enums into
    ints, the History table turns them into names and nested dicts into JSON.
    """
    fields: dict[str, Any] = {"EventType": event.event_type}
    for attribute, wire_name, kind in _WIRE_FIELDS[type(event)]:
        value = getattr(event, attribute)
        if value is not None and kind in (_INSTANCE, _PARENT, _FAILURE):
            value = value.to_wire()
        elif value is not None and kind == _TAGS:
            value = dict(value)
        fields[wire_name] = value
    return fields


def from_wire(fields: dict[str, Any]) -> HistoryEvent:
    """Build an event from wire members; tolerant of the spellings both stores use.

    Accepts an EventType / OrchestrationStatus as int, name or enum member; a
    datetime as datetime or ISO-8601 string; a nested object as dict or JSON
    string (`"null"` meaning absent). Unknown members are ignored, as DTFx does.
    """
    event_type = parse_event_type(fields["EventType"])
    event_class = EVENT_CLASSES[event_type]
    values: dict[str, Any] = {}
    for attribute, wire_name, kind in _WIRE_FIELDS[event_class]:
        if wire_name in fields:
            values[attribute] = _parse_value(kind, fields[wire_name])
            if values[attribute] is None and kind in (_INT, _BOOL, _TIME, _STATUS):
                del values[attribute]  # keep the dataclass default
    return event_class(**values)


def to_json(event: HistoryEvent) -> dict[str, Any]:
    """The DTFx JSON shape: enums as ints, times as ISO-8601 with 7 digits and `Z`."""
    fields = to_wire(event)
    return {name: _json_value(value) for name, value in fields.items()}


def from_json(value: dict[str, Any]) -> HistoryEvent:
    return from_wire(value)


def format_datetime(value: datetime) -> str:
    """ISO-8601 UTC with 7 fractional digits, as .NET's round-trip format writes it."""
    value = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    return f"{value.year:04d}-{value.strftime('%m-%dT%H:%M:%S.%f')}0Z"


def parse_datetime(value: str | datetime) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    text = value.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    head, dot, rest = text.partition(".")
    if dot:  # Python 3.11 accepts at most 6 fractional digits
        digits = "".join(c for c in rest if c.isdigit())
        text = f"{head}.{digits[:6]}{rest[len(digits) :]}"
    parsed = datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def parse_event_type(value: Any) -> EventType:
    if isinstance(value, str) and not value.isdigit():
        return EventType[value]
    return EventType(int(value))


def parse_status(value: Any) -> OrchestrationStatus:
    if isinstance(value, str) and not value.isdigit():
        return OrchestrationStatus[value]
    return OrchestrationStatus(int(value))


def _parse_value(kind: str, value: Any) -> Any:
    if value is None:
        return None
    if kind in COMPLEX_KINDS and isinstance(value, str):
        value = json.loads(value) if value else None
        if value is None:
            return None
    if kind == _TIME:
        return parse_datetime(value)
    if kind == _STATUS:
        return parse_status(value)
    if kind == _INT:
        return int(value)
    if kind == _BOOL:
        return value if isinstance(value, bool) else str(value).lower() == "true"
    if kind == _INSTANCE:
        return OrchestrationInstance.from_wire(value)
    if kind == _PARENT:
        return ParentInstance.from_wire(value)
    if kind == _FAILURE:
        return FailureDetails.from_wire(value)
    if kind == _TAGS:
        return {str(k): str(v) for k, v in value.items()}
    return value


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return format_datetime(value)
    if isinstance(value, IntEnum):
        return int(value)
    return value
