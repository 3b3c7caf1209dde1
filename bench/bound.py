"""The Azurite bound: how fast this Azurite serves a workload's request mix when nothing else runs.

A workload's requests by kind (from the counter) become a shuffled list of the
same kinds in the same proportions, `total` requests long; 16 coroutines
(`concurrency`) issue them through the same client paths the runtime uses (a
`StorageAccount` on the same transport), so the figure includes the same client-side cost.
Mix rate = requests / elapsed. A workload's bound in its own units is
mix rate / requests per unit (per orchestration, activity or event); the
report prints the workload's throughput as a fraction of that.

The counter of the bound's own account is read back afterwards and must match
the planned mix: it is a check that every kind is driven by a request the
counter classifies the same way.

Depth. Azurite's queue store scans every message in the account before each
receive, delete and update, and a receive sorts the visible messages of its
queue, so each queue request costs time proportional to the messages stored.
By default (`standing_messages=0`) receives poll a queue of `RECEIVE_DEPTH`
messages and deletes and updates act on messages received beforehand from a
separate queue; that pool, one message per planned delete or update, is the
only backlog, so even this bound has some depth (it grows with `total`; see
`MixRate.average_standing_messages`). With `standing_messages=N` the mix runs
against one extra "deep" queue, as W2's activities run against a work-item
queue holding its whole fan-out:
- sends, receives, deletes and updates all act on the deep queue;
- before timing, the deep queue is filled (`FILL_IN_FLIGHT` sends at a time)
  and the messages the deletes and updates need are received from it with a
  long visibility timeout, so they stay stored, invisible, until deleted;
- the fill is sized so the messages stored in the account average N over the
  timed run: deletes drain the backlog while sends top it up (W2 sends about
  as many work items as it deletes), and both are spread evenly by the
  shuffle, so the average is the start plus half of (sends - deletes). When
  the deletes need more messages than that, the deletes win and the average is
  higher; `MixRate.average_standing_messages` says what was modelled;
- a receive asks for as many messages as the workload received per receive
  (its deletes per receive, 1 to 32), not a full page: most of W2's receives
  poll a control queue holding little. Its visibility timeout is 1 s, so
  received messages come back and the visible backlog does not run dry.
W2 drains its work-item queue from `w2_activities` messages to none, so its
spec asks for half of them standing: the average over the run.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from durable_azure.azure_storage import StorageAccount
from durable_azure.azure_storage.batches import BatchOperation
from durable_azure.azure_storage.blob_service import LeaseAction
from durable_azure.azure_storage.queue_service import StoredMessage

PAYLOAD = "x" * 200
HISTORY_ROWS = 10
BATCH_ROWS = 4
# A control queue polled by a busy worker holds a few messages, not a full page of 32.
RECEIVE_DEPTH = 4
PAGE = 32
FILL_IN_FLIGHT = 32
# Messages held for deletes and updates must outlive the timed run.
HOLD_VISIBILITY_SECONDS = 300


@dataclass(frozen=True, slots=True, kw_only=True)
class MixRate:
    requests_per_second: float
    planned: dict[str, int]
    counted: dict[str, int]
    # Messages stored in the account while timed, on average (visible or not): the depth every queue request paid.
    average_standing_messages: float

    @property
    def counter_matches(self) -> bool:
        return self.planned == self.counted


def plan(mix: Mapping[str, float], total: int) -> list[str]:
    """`total` request kinds in the mix's proportions (every kind present at least once), shuffled."""
    weight = sum(mix.values())
    kinds: list[str] = []
    for kind, count in sorted(mix.items()):
        if count > 0:
            kinds += [kind] * max(1, round(total * count / weight))
    random.Random(5).shuffle(kinds)
    return kinds


def _counts(kinds: list[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for kind in kinds:
        counts[kind] = counts.get(kind, 0) + 1
    return counts


def messages_to_hold(planned: Mapping[str, int], standing_messages: int) -> int:
    """How many messages the queue the deletes and updates act on starts with (see the module docstring)."""
    needed = planned.get("queue.delete", 0) + planned.get("queue.update", 0)
    if standing_messages <= 0:
        return needed
    drift = planned.get("queue.send", 0) - planned.get("queue.delete", 0)
    return max(needed, round(standing_messages - RECEIVE_DEPTH - drift / 2))


def messages_per_receive(planned: Mapping[str, int], standing_messages: int) -> int:
    """A full page from the shallow queue; from the deep queue, the workload's own messages per receive."""
    receives = planned.get("queue.receive", 0)
    if standing_messages <= 0 or not receives:
        return PAGE
    return min(PAGE, max(1, round(planned.get("queue.delete", 0) / receives)))


class _Fixture:
    """Queues, a table and a container prepared so every request kind has something real to act on."""

    def __init__(self, account: StorageAccount, standing_messages: int) -> None:
        suffix = uuid.uuid4().hex[:10]
        self.queues = account.queues
        self.tables = account.tables
        self.blobs = account.blobs
        self.send_queue = f"bound-send-{suffix}"
        self.receive_queue = f"bound-receive-{suffix}"
        self.deep_queue = f"bound-deep-{suffix}" if standing_messages > 0 else None
        # Where sends, deletes and updates go, and where receives poll: the deep queue when there is one.
        self.message_queue = self.deep_queue if self.deep_queue is not None else self.send_queue
        self.poll_queue = self.deep_queue if self.deep_queue is not None else self.receive_queue
        self.table = f"Bound{suffix}"
        self.container = f"bound-{suffix}"
        self.standing_messages = standing_messages
        self.receive_count = PAGE
        self.received: list[StoredMessage] = []
        self.lease_id = str(uuid.uuid4())
        self.unique = iter(range(10**9))

    def queue_names(self) -> list[str]:
        return [queue for queue in (self.send_queue, self.receive_queue, self.deep_queue) if queue is not None]

    async def create(self, planned: Mapping[str, int]) -> int:
        """Prepares everything; returns how many messages stand in the account when the timing starts."""
        await asyncio.gather(*(self.queues.create_queue(queue) for queue in self.queue_names()))
        await self.tables.create_table(self.table)
        await self.blobs.create_container(self.container)
        held = messages_to_hold(planned, self.standing_messages)
        await self._send_many(self.receive_queue, RECEIVE_DEPTH)
        await self._send_many(self.message_queue, held)
        await self._receive_for_later(planned.get("queue.delete", 0) + planned.get("queue.update", 0))
        self.receive_count = messages_per_receive(planned, self.standing_messages)
        rows = [{"PartitionKey": "history", "RowKey": f"{i:04d}", "Payload": PAYLOAD} for i in range(HISTORY_ROWS)]
        await self.tables.batch(self.table, [BatchOperation("upsert", row) for row in rows], operation="bound setup")
        await self.blobs.put(self.container, "existing", PAYLOAD.encode())
        await self.blobs.lease(self.container, "existing", LeaseAction.ACQUIRE, lease_id=self.lease_id, duration=60)
        return RECEIVE_DEPTH + held

    async def delete(self) -> None:
        await asyncio.gather(
            *(self.queues.delete_queue(queue) for queue in self.queue_names()),
            self.tables.delete_table(self.table),
            self.blobs.delete_container(self.container),
            return_exceptions=True,
        )

    async def _send(self, queue: str) -> None:
        await self.queues.send(queue, PAYLOAD, visibility_timeout=0)

    async def _send_many(self, queue: str, count: int) -> None:
        slots = asyncio.Semaphore(FILL_IN_FLIGHT)

        async def send_one() -> None:
            async with slots:
                await self._send(queue)

        await asyncio.gather(*(send_one() for _ in range(count)))

    async def _receive_for_later(self, count: int) -> None:
        """Messages for the deletes and updates, invisible (but stored) until the timed run acts on them."""
        while len(self.received) < count:
            self.received += await self.queues.receive(
                self.message_queue, PAGE, visibility_timeout=HOLD_VISIBILITY_SECONDS
            )

    async def queue_receive(self) -> None:
        await self.queues.receive(self.poll_queue, self.receive_count, visibility_timeout=1)

    async def table_query(self) -> None:
        [row async for row in self.tables.query(self.table, "PartitionKey eq 'history'")]

    async def table_batch(self) -> None:
        partition = f"batch{next(self.unique)}"
        rows = [{"PartitionKey": partition, "RowKey": f"{i:04d}", "Payload": PAYLOAD} for i in range(BATCH_ROWS)]
        await self.tables.batch(self.table, [BatchOperation("upsert", row) for row in rows], operation="bound batch")

    async def queue_send(self) -> None:
        await self._send(self.message_queue)

    async def queue_delete(self) -> None:
        message = self.received.pop()
        await self.queues.delete_message(self.message_queue, message.message_id, message.pop_receipt)

    async def queue_update(self) -> None:
        message = self.received.pop()
        await self.queues.update_visibility(self.message_queue, message.message_id, message.pop_receipt, 300)

    async def table_row(self, *, merge: bool) -> None:
        row = {"PartitionKey": "history", "RowKey": "0000", "Payload": PAYLOAD}
        await self.tables.upsert(self.table, row, merge=merge)

    async def table_insert(self) -> None:
        await self.tables.insert(self.table, {"PartitionKey": "new", "RowKey": str(next(self.unique))})

    def operations(self) -> dict[str, Callable[[], Awaitable[Any]]]:
        return {
            "queue.send": self.queue_send,
            "queue.receive": self.queue_receive,
            "queue.delete": self.queue_delete,
            "queue.update": self.queue_update,
            "table.query": self.table_query,
            "table.batch": self.table_batch,
            "table.merge": lambda: self.table_row(merge=True),
            "table.update": lambda: self.table_row(merge=False),
            "table.insert": self.table_insert,
            "table.get": lambda: self.tables.get(self.table, "history", "0000"),
            "table.delete": lambda: self.tables.delete(self.table, "new", f"missing{next(self.unique)}"),
            "blob.upload": lambda: self.blobs.put(self.container, f"new{next(self.unique)}", PAYLOAD.encode()),
            "blob.download": lambda: self.blobs.get(self.container, "existing"),
            "blob.lease": lambda: self.blobs.lease(
                self.container, "existing", LeaseAction.RENEW, lease_id=self.lease_id
            ),
            "blob.list": lambda: self.blobs.list_blobs(self.container, prefix="existing"),
            "blob.delete": lambda: self.blobs.delete(self.container, f"missing{next(self.unique)}"),
            "other": lambda: self.queues.properties(self.receive_queue),
        }


async def measure_mix(
    connection_string: str, mix: Mapping[str, float], total: int, concurrency: int, standing_messages: int = 0
) -> MixRate:
    """Drive `total` requests of the mix at `concurrency`, with about `standing_messages` messages stored meanwhile.

    Returns the rate, the planned vs counted requests and the depth modelled.
    """
    kinds = plan(mix, total)
    planned = _counts(kinds)
    async with StorageAccount.from_connection_string(connection_string) as account:
        fixture = _Fixture(account, standing_messages)
        standing_at_start = await fixture.create(planned)
        operations = fixture.operations()
        pending = list(kinds)
        account.counter.reset()

        async def issue() -> None:
            while pending:
                await operations[pending.pop()]()

        start = time.perf_counter()
        await asyncio.gather(*(issue() for _ in range(concurrency)))
        elapsed = time.perf_counter() - start
        counted = {kind: count for kind, count in account.counter.snapshot().items() if count}
        await fixture.delete()
    drift = planned.get("queue.send", 0) - planned.get("queue.delete", 0)
    return MixRate(
        requests_per_second=len(kinds) / elapsed,
        planned=planned,
        counted=counted,
        average_standing_messages=standing_at_start + drift / 2,
    )
