"""The Azurite bound: how fast this Azurite serves a workload's request mix when nothing else runs.

A workload's requests by kind (from the counter) become a shuffled list of the
same kinds in the same proportions, `total` requests long; 16 coroutines
(`concurrency`) issue them through the same client paths the runtime uses (a
`StorageAccount`: its lean queue and `$batch` paths where the runtime uses them,
the SDK clients for the rest), so the figure includes the same client-side cost.
Mix rate = requests / elapsed. A workload's bound in its own units is
mix rate / requests per unit (per orchestration, activity or event); the
report prints the workload's throughput as a fraction of that.

The counter of the bound's own account is read back afterwards and must match
the planned mix: it is a check that every kind is driven by a request the
counter classifies the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from azure.core.exceptions import ResourceNotFoundError
from azure.data.tables import UpdateMode

from durable_azure.azure_storage import StorageAccount
from durable_azure.azure_storage.table_wire import BatchOperation

PAYLOAD = "x" * 200
HISTORY_ROWS = 10
BATCH_ROWS = 4
# A control queue polled by a busy worker holds a few messages, not a full page of 32.
RECEIVE_DEPTH = 4


@dataclass(frozen=True, slots=True, kw_only=True)
class MixRate:
    requests_per_second: float
    planned: dict[str, int]
    counted: dict[str, int]

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


class _Fixture:
    """Queues, a table and a container prepared so every request kind has something real to act on."""

    def __init__(self, account: StorageAccount) -> None:
        suffix = uuid.uuid4().hex[:10]
        self.queue_wire = account.queue_wire
        self.table_wire = account.table_wire
        self.send_queue = account.queue_service.get_queue_client(f"bound-send-{suffix}")
        self.receive_queue = account.queue_service.get_queue_client(f"bound-receive-{suffix}")
        self.table = account.table_service.get_table_client(f"Bound{suffix}")
        self.container = account.blob_service.get_container_client(f"bound-{suffix}")
        self.received: list[Any] = []
        self.lease: Any = None
        self.unique = iter(range(10**9))

    async def create(self, kinds: list[str]) -> None:
        await asyncio.gather(self.send_queue.create_queue(), self.receive_queue.create_queue())
        await self.table.create_table()
        await self.container.create_container()
        await asyncio.gather(*(self.receive_queue.send_message(PAYLOAD) for _ in range(RECEIVE_DEPTH)))
        needs_message = sum(kind in ("queue.delete", "queue.update") for kind in kinds)
        await asyncio.gather(*(self.send_queue.send_message(PAYLOAD) for _ in range(needs_message)))
        while len(self.received) < needs_message:
            if self.queue_wire is not None:
                self.received += await self.queue_wire.receive(self.send_queue.queue_name, 32, visibility_timeout=300)
                continue
            pages = self.send_queue.receive_messages(messages_per_page=32, visibility_timeout=300).by_page()
            self.received += [message async for message in await pages.__anext__()]
        rows = [{"PartitionKey": "history", "RowKey": f"{i:04d}", "Payload": PAYLOAD} for i in range(HISTORY_ROWS)]
        await self.table.submit_transaction([("upsert", row) for row in rows])
        await self.container.upload_blob("existing", PAYLOAD.encode())
        self.lease = await self.container.get_blob_client("existing").acquire_lease(lease_duration=60)

    async def delete(self) -> None:
        await asyncio.gather(
            self.send_queue.delete_queue(),
            self.receive_queue.delete_queue(),
            self.table.delete_table(),
            self.container.delete_container(),
            return_exceptions=True,
        )

    async def queue_receive(self) -> None:
        if self.queue_wire is not None:
            await self.queue_wire.receive(self.receive_queue.queue_name, 32, visibility_timeout=1)
            return
        pages = self.receive_queue.receive_messages(messages_per_page=32, visibility_timeout=1).by_page()
        with contextlib.suppress(StopAsyncIteration):  # an empty queue ends the paging at once
            [message async for message in await pages.__anext__()]

    async def table_query(self) -> None:
        [row async for row in self.table.query_entities("PartitionKey eq 'history'")]

    async def table_batch(self) -> None:
        partition = f"batch{next(self.unique)}"
        rows = [{"PartitionKey": partition, "RowKey": f"{i:04d}", "Payload": PAYLOAD} for i in range(BATCH_ROWS)]
        if self.table_wire is not None:
            operations = [BatchOperation("upsert", row) for row in rows]
            await self.table_wire.submit(self.table.table_name, operations, operation="bound batch")
            return
        await self.table.submit_transaction([("upsert", row) for row in rows])

    async def queue_send(self) -> None:
        if self.queue_wire is not None:
            await self.queue_wire.send(self.send_queue.queue_name, PAYLOAD, visibility_timeout=0)
        else:
            await self.send_queue.send_message(PAYLOAD)

    async def queue_delete(self) -> None:
        message = self.received.pop()
        if self.queue_wire is not None:
            await self.queue_wire.delete(self.send_queue.queue_name, message.message_id, message.pop_receipt)
        else:
            await self.send_queue.delete_message(message)

    async def queue_update(self) -> None:
        message = self.received.pop()
        if self.queue_wire is not None:
            name = self.send_queue.queue_name
            await self.queue_wire.update_visibility(name, message.message_id, message.pop_receipt, 300)
        else:
            await self.send_queue.update_message(message, visibility_timeout=300)

    async def table_row(self, mode: UpdateMode) -> None:
        row = {"PartitionKey": "history", "RowKey": "0000", "Payload": PAYLOAD}
        await self.table.update_entity(row, mode=mode)

    async def blob_download(self) -> None:
        await (await self.container.download_blob("existing")).readall()

    async def blob_delete(self) -> None:
        with contextlib.suppress(ResourceNotFoundError):
            await self.container.delete_blob(f"missing{next(self.unique)}")

    def operations(self) -> dict[str, Callable[[], Awaitable[Any]]]:
        return {
            "queue.send": self.queue_send,
            "queue.receive": self.queue_receive,
            "queue.delete": self.queue_delete,
            "queue.update": self.queue_update,
            "table.query": self.table_query,
            "table.batch": self.table_batch,
            "table.merge": lambda: self.table_row(UpdateMode.MERGE),
            "table.update": lambda: self.table_row(UpdateMode.REPLACE),
            "table.insert": lambda: self.table.create_entity({"PartitionKey": "new", "RowKey": str(next(self.unique))}),
            "table.get": lambda: self.table.get_entity("history", "0000"),
            "table.delete": lambda: self.table.delete_entity("new", f"missing{next(self.unique)}"),
            "blob.upload": lambda: self.container.upload_blob(f"new{next(self.unique)}", PAYLOAD.encode()),
            "blob.download": self.blob_download,
            "blob.lease": lambda: self.lease.renew(),
            "blob.list": lambda: self.container.list_blobs(results_per_page=10).by_page().__anext__(),
            "blob.delete": self.blob_delete,
            "other": lambda: self.receive_queue.get_queue_properties(),
        }


async def measure_mix(connection_string: str, mix: Mapping[str, float], total: int, concurrency: int) -> MixRate:
    """Drive `total` requests of the mix at `concurrency`; the rate, and the planned vs counted requests."""
    kinds = plan(mix, total)
    async with StorageAccount.from_connection_string(connection_string) as account:
        fixture = _Fixture(account)
        await fixture.create(kinds)
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
    planned: dict[str, int] = {}
    for kind in kinds:
        planned[kind] = planned.get(kind, 0) + 1
    return MixRate(requests_per_second=len(kinds) / elapsed, planned=planned, counted=counted)
