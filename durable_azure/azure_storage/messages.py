"""The queue message envelope (DTFx `MessageData`): JSON with .NET `$type` names, gzip and blob offload.

A message written here can be read by DTFx and vice versa (dtfx-azure-storage.md
§4.1, §4.2): every object carries the .NET type name DTFx's Newtonsoft settings
write (`TypeNameHandling.Objects`), enums are integers, times ISO-8601 with 7
digits. The event's members come from `history.to_json` / `from_wire`, the one
event codec; this module only adds the envelope and the type names.
"""

from __future__ import annotations

import base64
import binascii
import itertools
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from durable_azure.azure_storage.blobs import LargeMessageStore
from durable_azure.azure_storage.names import TaskHubNames
from durable_azure.errors import MessageFormatError
from durable_azure.history import (
    HistoryEvent,
    OrchestrationInstance,
    from_wire,
    to_json,
    wire_fields,
)

MAX_INLINE_MESSAGE_BYTES = 45 * 1024
"""Envelopes over this many UTF-8 bytes are gzipped to a blob (base64 would inflate 4/3 past 64 KiB)."""

TYPE_KEY = "$type"
MESSAGE_DATA_TYPE = "DurableTask.AzureStorage.MessageData"
TASK_MESSAGE_TYPE = "DurableTask.Core.TaskMessage"
_STRING_DICTIONARY_TYPE = (
    "System.Collections.Generic.Dictionary`2[[System.String, System.Private.CoreLib],"
    "[System.String, System.Private.CoreLib]]"
)
_NESTED_TYPES = {
    "instance": "DurableTask.Core.OrchestrationInstance",
    "parent": "DurableTask.Core.ParentInstance",
    "failure": "DurableTask.Core.FailureDetails",
    "tags": _STRING_DICTIONARY_TYPE,
}

_sequence_numbers = itertools.count(1)


def next_sequence_number() -> int:
    """Process-wide send counter: DTFx's tie-breaker for messages with the same insertion second."""
    return next(_sequence_numbers)


@dataclass(frozen=True, slots=True, kw_only=True)
class MessageData:
    """One queue message: an event for an instance, with DTFx's envelope fields."""

    event: HistoryEvent
    instance: OrchestrationInstance
    episode: int | None = None
    sender: OrchestrationInstance | None = None
    activity_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    sequence_number: int = 0
    compressed_blob_name: str | None = None


def event_type_name(event: HistoryEvent) -> str:
    """`ExecutionStarted`: the name used in offloaded blob names."""
    return event.event_type.name


def event_class_name(event: HistoryEvent) -> str:
    """The .NET class of an event: `TaskScheduledEvent`, but `GenericEvent` stays as it is."""
    name = event.event_type.name
    return name if name.endswith("Event") else f"{name}Event"


def event_to_json(event: HistoryEvent) -> dict[str, Any]:
    """The event as DTFx's Newtonsoft writes it in a message, nested objects typed too."""
    members = to_json(event)
    typed: dict[str, Any] = {TYPE_KEY: f"DurableTask.Core.History.{event_class_name(event)}"}
    for _attribute, wire_name, kind in wire_fields(type(event)):
        value = members.get(wire_name)
        if isinstance(value, dict) and kind in _NESTED_TYPES:
            members[wire_name] = _with_type(value, kind)
    typed.update(members)
    return typed


def _with_type(value: dict[str, Any], kind: str) -> dict[str, Any]:
    typed = {TYPE_KEY: _NESTED_TYPES[kind], **value}
    nested_instance = typed.get("OrchestrationInstance")
    if kind == "parent" and isinstance(nested_instance, dict):
        typed["OrchestrationInstance"] = _with_type(nested_instance, "instance")
    return typed


def envelope_to_json(data: MessageData) -> dict[str, Any]:
    envelope: dict[str, Any] = {
        TYPE_KEY: MESSAGE_DATA_TYPE,
        "ActivityId": data.activity_id,
        "TaskMessage": {
            TYPE_KEY: TASK_MESSAGE_TYPE,
            "Event": event_to_json(data.event),
            "SequenceNumber": 0,
            "OrchestrationInstance": _with_type(data.instance.to_wire(), "instance"),
        },
        "CompressedBlobName": data.compressed_blob_name,
        "SequenceNumber": data.sequence_number,
    }
    if data.episode is not None:
        envelope["Episode"] = data.episode
    sender = data.sender or OrchestrationInstance(instance_id="", execution_id="")
    envelope["Sender"] = sender.to_wire()
    return envelope


def envelope_from_json(envelope: dict[str, Any]) -> MessageData:
    """Build MessageData from a parsed envelope; ignores `$type` and unknown members, as DTFx does."""
    clean = _strip_types(envelope)
    task_message = clean.get("TaskMessage") or {}
    sender = clean.get("Sender")
    has_sender = isinstance(sender, dict) and bool(sender.get("InstanceId"))
    return MessageData(
        event=from_wire(task_message["Event"]),
        instance=OrchestrationInstance.from_wire(task_message.get("OrchestrationInstance") or {}),
        episode=clean.get("Episode"),
        sender=OrchestrationInstance.from_wire(sender) if has_sender else None,
        activity_id=clean.get("ActivityId") or str(uuid.UUID(int=0)),
        sequence_number=int(clean.get("SequenceNumber") or 0),
        compressed_blob_name=clean.get("CompressedBlobName"),
    )


def _strip_types(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _strip_types(item) for key, item in value.items() if key != TYPE_KEY}
    if isinstance(value, list):
        return [_strip_types(item) for item in value]
    return value


def parse_body(body: str) -> dict[str, Any]:
    """A body starting with `{` is JSON; anything else is base64 of UTF-8 JSON (DTFx 1.x, or Base64 encoding)."""
    text = body.lstrip()
    if not text.startswith("{"):
        try:
            text = base64.b64decode(text, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError, ValueError) as error:
            raise MessageFormatError(f"queue message body is neither JSON nor base64 JSON: {error}") from error
    try:
        parsed = json.loads(text)
    except json.JSONDecodeError as error:
        raise MessageFormatError(f"queue message body is not valid JSON: {error}") from error
    if not isinstance(parsed, dict):
        raise MessageFormatError("queue message body is not a JSON object")
    return parsed


class MessageCodec:
    """Encodes envelopes to queue bodies and back, offloading large ones to the large-messages container."""

    def __init__(self, large_messages: LargeMessageStore) -> None:
        self._large_messages = large_messages

    async def encode(self, data: MessageData) -> str:
        """The queue body; over 46,080 UTF-8 bytes the envelope goes to a blob and a wrapper is queued."""
        body = json.dumps(envelope_to_json(data), ensure_ascii=False, separators=(",", ":"))
        if len(body.encode("utf-8")) <= MAX_INLINE_MESSAGE_BYTES:
            return body
        blob_name = TaskHubNames.message_blob(data.instance.instance_id, data.activity_id, event_type_name(data.event))
        await self._large_messages.upload(blob_name, body)
        wrapper = {
            TYPE_KEY: MESSAGE_DATA_TYPE,
            "ActivityId": data.activity_id,
            "TaskMessage": None,
            "CompressedBlobName": blob_name,
            "SequenceNumber": data.sequence_number,
        }
        return json.dumps(wrapper, separators=(",", ":"))

    async def decode(self, body: str) -> MessageData:
        """Parse a queue body (JSON or base64), downloading the envelope when it was offloaded."""
        envelope = parse_body(body)
        blob_name = envelope.get("CompressedBlobName")
        if blob_name and not envelope.get("TaskMessage"):
            envelope = parse_body(await self._large_messages.download(blob_name))
            envelope["CompressedBlobName"] = blob_name
        try:
            return envelope_from_json(envelope)
        except (KeyError, TypeError, ValueError) as error:
            raise MessageFormatError(f"queue message envelope is malformed: {error!r}") from error
