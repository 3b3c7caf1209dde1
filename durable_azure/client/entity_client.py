"""The client's entity operations: signal, read, list and clean (azure.durable_functions' names, and more).

Signals travel as `op` requests in the extension's format to the entity's
control queue. Each process signs its signals as one sender, with a stamp per
entity (of one task hub) and the stamp of its previous signal to that entity
(unless that is too old for the entity to remember, `CHAIN_WINDOW`), so the entity's
sorter applies one process's signals in the order they were sent and drops a
copy (a retried send, a redelivery after a worker died between its commit and
its delete). Sends to one entity from one process are therefore made one at a
time; sends to different entities run concurrently.
"""

from __future__ import annotations

import asyncio
import os
import threading
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from durable_azure import serialization
from durable_azure.azure_storage import MessageData, TaskHub
from durable_azure.client.maintenance import purge_instance
from durable_azure.entities import (
    MIN_TIME,
    OPERATION_EVENT,
    RELEASE_EVENT,
    REORDER_WINDOW,
    EntityId,
    EntityStateResponse,
    ReleaseMessage,
    RequestMessage,
    SchedulerState,
    as_entity_id,
    check_entity_key,
    delivery_time,
    encode_operation_input,
    next_stamp,
    scheduled_event_name,
)
from durable_azure.history import EventRaised, OrchestrationInstance

_SENDER_ENTRIES = 10_000


@dataclass(frozen=True, slots=True)
class EntityMetadata:
    """One row of `list_entities`: the id, when it last ran a batch, and (if asked for) its state."""

    entity_id: EntityId
    last_operation_time: datetime | None
    state: Any = None

    def to_json(self) -> dict[str, Any]:
        """The extension's list entry: `{"entityId": {"name", "key"}, "lastOperationTime", "state"}`."""
        when = self.last_operation_time.isoformat().replace("+00:00", "Z") if self.last_operation_time else None
        return {"entityId": self.entity_id.to_json(), "lastOperationTime": when, "state": self.state}


@dataclass(frozen=True, slots=True)
class EntityPage:
    entities: list[EntityMetadata]
    continuation_token: str | None


@dataclass(frozen=True, slots=True)
class CleanEntityStorageResult:
    """`clean_entity_storage`'s counts, as the extension names them."""

    num_empty_entities_removed: int
    num_orphaned_locks_released: int


class _ProcessSender:
    """This process as one sorter sender: its id, and per entity its last stamp and a send lock.

    One per process (a forked child gets its own id and chains) and per event loop (asyncio locks belong
    to one loop); a thread lock guards the shared tables.
    """

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.sender_id = f"client:{uuid.uuid4()}"
        self._last: OrderedDict[str, datetime] = OrderedDict()
        self._locks: dict[tuple[int, str], tuple[asyncio.Lock, int]] = {}  # the lock, and how many sends use it
        self._guard = threading.Lock()

    async def send_in_order(self, destination: str, send: Callable[[datetime, datetime], Awaitable[bool]]) -> None:
        """Stamp and send one request; the stamp chains to the last sequenced request to `destination` stored.

        `send` returns whether the request was sequenced (a scheduled signal is not: it bypasses the
        receiver's sorter, so the next request must not name it). `destination` names the entity *and* its
        task hub (`destination_key`): the same entity id in another hub is another receiver.
        """
        key = (id(asyncio.get_running_loop()), destination)
        with self._guard:
            lock, users = self._locks.get(key) or (asyncio.Lock(), 0)
            self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                with self._guard:
                    timestamp, predecessor = next_stamp(self._last.get(destination, MIN_TIME), datetime.now(UTC))
                if await send(timestamp, predecessor):  # a failed send leaves the chain where it was
                    with self._guard:
                        self._last[destination] = max(timestamp, self._last.get(destination, MIN_TIME))
                        self._last.move_to_end(destination)
                        if len(self._last) > _SENDER_ENTRIES:
                            self._last.popitem(last=False)
        finally:
            with self._guard:
                lock, users = self._locks[key]
                if users == 1:
                    del self._locks[key]
                else:
                    self._locks[key] = (lock, users - 1)


_SENDER = _ProcessSender()


def _sender() -> _ProcessSender:
    """The process's sender; a new one in a forked child, which must not reuse its parent's id and chains."""
    global _SENDER
    if _SENDER.pid != os.getpid():
        _SENDER = _ProcessSender()
    return _SENDER


def destination_key(hub: TaskHub, scheduler_id: str) -> str:
    """One entity of one task hub in one account: what a sender's stamps chain over."""
    return f"{hub.account.queue_endpoint}|{hub.hub_name.lower()}|{scheduler_id}"


class EntityClientMixin:
    """Part of DurableOrchestrationClient; needs its hub and open/ensure checks."""

    _hub: TaskHub
    _check_open: Callable[[], None]
    _ensure_hub: Callable[[], Awaitable[None]]
    _client_for: Callable[[str | None, str | None], Awaitable[Any]]

    async def signal_entity(
        self,
        entityId: Any,
        operation_name: str,
        operation_input: Any = None,
        task_hub_name: str | None = None,
        connection_name: str | None = None,
        *,
        signal_time: datetime | None = None,
    ) -> None:
        """Send a one-way operation to an entity (created by its first operation); `signal_time` delays it."""
        self._check_open()
        entity = as_entity_id(entityId)
        check_entity_key(entity.key)
        if not isinstance(operation_name, str):  # "" is an operation name, as in the extension (HTTP without `op`)
            raise ValueError("operation_name must be a string")
        input_text = encode_operation_input(operation_input)
        target = await self._client_for(task_hub_name, connection_name)
        if target is not self:
            return await target.signal_entity(entity, operation_name, operation_input, signal_time=signal_time)
        if signal_time is not None and signal_time.tzinfo is None:
            signal_time = signal_time.replace(tzinfo=UTC)
        await self._ensure_hub()
        scheduler_id = EntityId.get_scheduler_id(entity)

        sender = _sender()

        async def send(timestamp: datetime, predecessor: datetime) -> bool:
            scheduled = signal_time is not None and signal_time > datetime.now(UTC)
            request = RequestMessage(
                id=str(uuid.uuid4()),
                operation=operation_name,
                is_signal=True,
                input=input_text,
                parent=None if scheduled else sender.sender_id,
                due=signal_time if scheduled else None,
                timestamp=timestamp,
                predecessor=predecessor,
            )
            await self._send_request(scheduler_id, request)
            return not scheduled

        await sender.send_in_order(destination_key(self._hub, scheduler_id), send)

    async def _send_request(self, scheduler_id: str, request: RequestMessage) -> None:
        now = datetime.now(UTC)
        name, delay = OPERATION_EVENT, 0.0
        if request.due is not None:
            delivery = delivery_time(request.due, now)
            name, delay = scheduled_event_name(delivery), max(0.0, (delivery - now).total_seconds())
        event = EventRaised(timestamp=now, name=name, input=request.to_text())
        message = MessageData(event=event, instance=OrchestrationInstance(instance_id=scheduler_id))
        await self._hub.control_queue_for(scheduler_id).send_or_offer(message, visibility_delay=delay)

    async def read_entity_state(
        self, entityId: Any, task_hub_name: str | None = None, connection_name: str | None = None
    ) -> EntityStateResponse:
        """Whether the entity exists and its state: one point read of its Instances row."""
        self._check_open()
        entity = as_entity_id(entityId)
        target = await self._client_for(task_hub_name, connection_name)
        if target is not self:
            return await target.read_entity_state(entity)
        await self._ensure_hub()
        record = await self._hub.instances.get(EntityId.get_scheduler_id(entity), include_input=True)
        if record is None:
            return EntityStateResponse(False)
        state = SchedulerState.from_text(record.input)
        if not state.exists:
            return EntityStateResponse(False)
        return EntityStateResponse(True, serialization.loads(state.state))

    async def list_entities(
        self,
        *,
        entity_name: str | None = None,
        last_operation_from: datetime | None = None,
        last_operation_to: datetime | None = None,
        fetch_state: bool = False,
        page_size: int = 100,
        continuation_token: str | None = None,
        include_deleted: bool = False,
    ) -> EntityPage:
        """One page of entities (all, or of one name), as the extension's entity query lists them.

        A page may hold fewer than `page_size` entities (deleted ones are left out), and still have a token.
        """
        self._check_open()
        if not 1 <= page_size <= 1000:
            raise ValueError(f"page_size must be 1-1000, not {page_size}")
        await self._ensure_hub()
        prefix = f"@{entity_name.lower()}@" if entity_name else "@"
        page = await self._hub.instances.query(
            instance_id_prefix=prefix,
            created_from=last_operation_from,
            created_to=last_operation_to,
            page_size=page_size,
            continuation_token=continuation_token,
            include_input=fetch_state or include_deleted is False,
        )
        found: list[EntityMetadata] = []
        for record in page.records:
            try:
                entity = EntityId.get_entity_id(record.instance_id)
            except ValueError:
                continue
            state = SchedulerState.from_text(record.input)
            if not state.exists and not include_deleted:
                continue
            value = serialization.loads(state.state) if fetch_state and state.exists else None
            found.append(EntityMetadata(entity, record.last_updated_time, value))
        return EntityPage(found, page.continuation_token)

    async def clean_entity_storage(
        self, remove_empty_entities: bool = True, release_orphaned_locks: bool = True
    ) -> CleanEntityStorageResult:
        """Remove deleted entities idle for longer than the reorder window, and release locks held by instances
        that are no longer running (the extension's `CleanEntityStorageAsync`)."""
        self._check_open()
        await self._ensure_hub()
        removed = released = 0
        horizon = datetime.now(UTC) - REORDER_WINDOW
        token: str | None = None
        while True:
            page = await self._hub.instances.query(instance_id_prefix="@", page_size=1000, continuation_token=token)
            for record in page.records:
                state = SchedulerState.from_text(record.input)
                idle = record.last_updated_time is not None and record.last_updated_time < horizon
                if remove_empty_entities and not state.exists and state.locked_by is None and not state.queue and idle:
                    removed += await purge_instance(self._hub, record.instance_id)
                elif release_orphaned_locks and state.locked_by is not None:
                    owner = await self._hub.instances.get(state.locked_by, include_input=False)
                    if owner is None or owner.runtime_status.is_terminal:
                        message = ReleaseMessage(parent=state.locked_by, id="fix-orphaned-lock")
                        event = EventRaised(timestamp=datetime.now(UTC), name=RELEASE_EVENT, input=message.to_text())
                        target = OrchestrationInstance(instance_id=record.instance_id)
                        await self._hub.control_queue_for(record.instance_id).send(
                            MessageData(event=event, instance=target)
                        )
                        released += 1
            token = page.continuation_token
            if token is None:
                return CleanEntityStorageResult(removed, released)
