"""What an entity keeps between batches: `SchedulerState` (EXT EntityScheduler/SchedulerState.cs) and its sorter.

The state travels as the `Input` of each generation's ExecutionStarted (and so
as the Instances row's `Input`): the user state as JSON *text*, the requests
waiting behind a lock, the lock owner, and the receive side of the message
sorter, which puts each sender's requests back in the order it sent them and
drops copies that at-least-once queues deliver again. Defaults are omitted, as
the extension writes them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from durable_azure.entities.messages import MIN_TIME, REORDER_WINDOW, RequestMessage, format_time, parse_time


@dataclass(slots=True)
class _Sender:
    last: datetime = MIN_TIME
    execution_id: str | None = None
    buffered: dict[datetime, RequestMessage] = field(default_factory=dict)
    # Ours (the extension has neither; Newtonsoft ignores unknown members): the receiver's own clock when it
    # last heard from the sender, and since when something of it waits. Stamps are the sender's sequence,
    # not a clock this side can compare with its own.
    seen: datetime | None = None
    waiting_since: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        value: dict[str, Any] = {"Last": format_time(self.last)}
        if self.execution_id:
            value["ExecutionId"] = self.execution_id
        if self.buffered:
            value["Buffered"] = {format_time(stamp): message.to_json() for stamp, message in self.buffered.items()}
        if self.seen is not None:
            value["Seen"] = format_time(self.seen)
        if self.waiting_since is not None:
            value["WaitingSince"] = format_time(self.waiting_since)
        return value

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> _Sender:
        buffered = value.get("Buffered") or {}
        return cls(
            last=parse_time(value["Last"]) if isinstance(value.get("Last"), str) else MIN_TIME,
            execution_id=value.get("ExecutionId"),
            buffered={parse_time(stamp): RequestMessage.from_json(message) for stamp, message in buffered.items()},
            seen=parse_time(value["Seen"]) if isinstance(value.get("Seen"), str) else None,
            waiting_since=parse_time(value["WaitingSince"]) if isinstance(value.get("WaitingSince"), str) else None,
        )


@dataclass(slots=True)
class MessageSorter:
    """Per-sender order and de-duplication of requests (EXT EntityScheduler/MessageSorter.cs).

    A request names its sender (`parent`) and execution, its own stamp and the
    stamp of the sender's previous request to this entity. It is delivered once
    everything before it was; a stamp at or below the last delivered one is a
    copy. A new execution of the sender starts a new sequence (what the old one
    left waiting is delivered first). A request whose predecessor has not come
    waits at most the reorder window, measured on this side's clock (stamps are
    only compared with each other), then goes on anyway. Requests without a
    sender, forwarded lock requests, scheduled and unstamped ones bypass the
    sorter. `last_sent` is the sending side for signals this entity sends.
    """

    received: dict[str, _Sender] = field(default_factory=dict)
    last_sent: dict[str, datetime] = field(default_factory=dict)

    def receive(
        self, message: RequestMessage, now: datetime, window: timedelta = REORDER_WINDOW
    ) -> list[RequestMessage]:
        """The requests now deliverable, in order (empty for a copy or one that must wait)."""
        if message.parent is None or message.position > 0 or message.due is not None or message.timestamp == MIN_TIME:
            return [message]  # not sequenced by its sender: delivered as it comes
        sender = self.received.setdefault(message.parent, _Sender())
        delivered: list[RequestMessage] = []
        execution = message.parent_execution
        if execution and sender.execution_id and execution != sender.execution_id:
            delivered = self._flush(sender)  # the old execution's sequence ends; the new one starts again
            sender.last = MIN_TIME
        if execution:
            sender.execution_id = execution
        sender.seen = now
        if message.timestamp <= sender.last or message.timestamp in sender.buffered:
            return delivered
        if message.predecessor > sender.last:
            sender.buffered[message.timestamp] = message
            sender.waiting_since = sender.waiting_since or now
            return delivered
        return delivered + self._deliver_from(sender, message)

    def release_expired(self, now: datetime, window: timedelta = REORDER_WINDOW) -> list[RequestMessage]:
        """Requests that waited a whole reorder window for their predecessor: delivered anyway, in order."""
        released: list[RequestMessage] = []
        for sender in self.received.values():
            if sender.waiting_since is not None and now - sender.waiting_since >= window:
                released += self._flush(sender)
        return released

    def next_release(self, window: timedelta = REORDER_WINDOW) -> datetime | None:
        """When the earliest waiting request is due to go on anyway (the entity wakes itself up then)."""
        times = [s.waiting_since + window for s in self.received.values() if s.waiting_since is not None]
        return min(times) if times else None

    def forget_idle(self, now: datetime, window: timedelta = REORDER_WINDOW) -> None:
        """Drop senders silent for longer than the reorder window, so the state does not grow with senders."""
        horizon = now - window
        for name in [n for n, s in self.received.items() if (s.seen or s.last) < horizon and not s.buffered]:
            del self.received[name]
        for name in [n for n, stamp in self.last_sent.items() if stamp < horizon]:
            del self.last_sent[name]

    def _flush(self, sender: _Sender) -> list[RequestMessage]:
        """Everything the sender has waiting, in stamp order (past any gap)."""
        flushed = [sender.buffered[stamp] for stamp in sorted(sender.buffered) if stamp > sender.last]
        if flushed:
            sender.last = flushed[-1].timestamp
        sender.buffered.clear()
        sender.waiting_since = None
        return flushed

    @staticmethod
    def _deliver_from(sender: _Sender, message: RequestMessage) -> list[RequestMessage]:
        """Deliver `message`, then every waiting request whose predecessor is now delivered, in stamp order."""
        delivered = [message]
        sender.last = message.timestamp
        while True:
            for stamp in [stamp for stamp in sender.buffered if stamp <= sender.last]:
                del sender.buffered[stamp]  # copies of what was just delivered
            ready = [m for m in sender.buffered.values() if m.predecessor <= sender.last]
            if not ready:
                break
            successor = min(ready, key=lambda m: m.timestamp)
            del sender.buffered[successor.timestamp]
            delivered.append(successor)
            sender.last = successor.timestamp
        if not sender.buffered:
            sender.waiting_since = None
        return delivered

    def to_json(self) -> dict[str, Any]:
        value: dict[str, Any] = {}
        if self.last_sent:
            value["LastSentToInstance"] = {name: format_time(stamp) for name, stamp in self.last_sent.items()}
        if self.received:
            value["ReceivedFromInstance"] = {name: sender.to_json() for name, sender in self.received.items()}
        return value

    @classmethod
    def from_json(cls, value: Any) -> MessageSorter:
        if not isinstance(value, dict):
            return cls()
        sent = value.get("LastSentToInstance") or {}
        received = value.get("ReceivedFromInstance") or {}
        return cls(
            received={name: _Sender.from_json(sender) for name, sender in received.items()},
            last_sent={name: parse_time(stamp) for name, stamp in sent.items()},
        )


@dataclass(slots=True)
class SchedulerState:
    """An entity's persisted scheduler state; `state` is the user state's JSON text."""

    exists: bool = False
    state: str | None = None
    queue: list[RequestMessage] = field(default_factory=list)
    locked_by: str | None = None
    lock_id: str | None = None  # ours ("lockId"): the request id of the lock held, so a stale release is ignored
    suspended: bool = False
    sorter: MessageSorter = field(default_factory=MessageSorter)

    def to_text(self) -> str:
        value: dict[str, Any] = {}
        if self.exists:
            value["exists"] = True
        if self.state is not None:
            value["state"] = self.state
        if self.queue:
            value["queue"] = [message.to_json() for message in self.queue]
        if self.locked_by is not None:
            value["lockedBy"] = self.locked_by
        if self.lock_id is not None:
            value["lockId"] = self.lock_id
        if self.suspended:
            value["suspended"] = True
        value["sorter"] = self.sorter.to_json()
        return json.dumps(value, separators=(",", ":"))

    @classmethod
    def from_text(cls, text: str | None) -> SchedulerState:
        """The state a generation starts with; None (an entity's first batch) is a fresh state."""
        if not text:
            return cls()
        value = json.loads(text)
        if not isinstance(value, dict):
            raise ValueError("an entity's scheduler state is a JSON object")
        state = value.get("state")
        return cls(
            exists=bool(value.get("exists", False)),
            state=state if isinstance(state, str) or state is None else json.dumps(state),
            queue=[RequestMessage.from_json(message) for message in value.get("queue") or []],
            locked_by=value.get("lockedBy"),
            lock_id=value.get("lockId"),
            suspended=bool(value.get("suspended", False)),
            sorter=MessageSorter.from_json(value.get("sorter")),
        )

    def status_text(self, current_operation: RequestMessage | None = None) -> str:
        """The Instances row's CustomStatus: the extension's `EntityStatus` (defaults omitted)."""
        value: dict[str, Any] = {}
        if self.exists:
            value["entityExists"] = True
        if self.queue:
            value["queueSize"] = len(self.queue)
        if self.locked_by is not None:
            value["lockedBy"] = self.locked_by
        return json.dumps(value, separators=(",", ":"))


def stored_entity_state(scheduler_text: str | None) -> tuple[bool, str | None]:
    """(exists, state JSON text) from a stored scheduler state, as a reader of the Instances row sees it."""
    state = SchedulerState.from_text(scheduler_text)
    return state.exists, state.state if state.exists else None
