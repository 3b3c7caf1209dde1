"""The blob trigger (`blobTrigger`): the host's polling scan of the container, with receipts.

Every `polling_interval` seconds (10 s, as the host) the container is listed (blobs under the pattern's
literal prefix); a blob modified at or after the scan cursor and matching the path pattern is a candidate.
For each candidate version (ETag) the function's receipt is claimed (`blob_receipts.py`): a complete
receipt means the version was handled, a leased one that another process is running it. A claimed blob is
read and the function invoked (its bindings filled by `invocation.py`, the pattern's names and
`BlobTrigger`, `Uri`, `Properties`, `Metadata` as binding data). Success completes the receipt; a failure
is retried at once, up to `maxDequeueCount` attempts in all (counted in the receipt, across restarts),
then a notice `{"Type":"BlobTrigger","FunctionId",...}` goes to the queue `webjobs-blobtrigger-poison` of
the blob's account and the receipt is completed.

The cursor advances to the latest LastModified seen, but never past a blob still running here or
elsewhere, so a blob whose process died is found again when its receipt's lease expires (at most 60 s).
So a version is run once across hosts and restarts, and more than once only when a process dies while
running it (at least once, as in Azure). Latency: up to one polling interval, plus the lease time after a
crash. Several processes with the same host id share the receipts and the cursor; two apps with different
host ids each process every blob, as two Azure apps do.

stop() ends the scan and waits for the running invocations; a blob whose attempt fails during shutdown is
left to the next process (receipt incomplete, lease released).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from durable_azure.errors import ConfigurationError, LeaseLostError, StorageError
from durable_azure.functions.bindings.blob import blob_metadata, blob_value, enum_text, parameter_value_type
from durable_azure.functions.indexing import InvocationServices, TriggeredFunction
from durable_azure.functions.invocation import invoke
from durable_azure.functions.queue_messages import encode, send_creating
from durable_azure.functions.triggers import register
from durable_azure.functions.triggers.blob_paths import BlobPathPattern
from durable_azure.functions.triggers.blob_receipts import (
    LEASE_SECONDS,
    Claim,
    ClaimOutcome,
    ReceiptStore,
    ScanCursor,
    function_id,
)
from durable_azure.functions.triggers.blob_settings import BlobTriggerSettings, load_blob_trigger_settings

if TYPE_CHECKING:
    from durable_azure.azure_storage import StorageAccount
    from durable_azure.azure_storage.blob_service import BlobItem

logger = logging.getLogger(__name__)

POISON_QUEUE = "webjobs-blobtrigger-poison"
BLOBS_PER_POLL = 10_000
"""Blobs listed per poll, as the host's budget; a larger container is swept over several polls."""

SWEEP_OVERLAP = timedelta(minutes=1)
"""How far before a sweep's start the cursor stays, for blobs written during it and for clock skew."""


@dataclass(slots=True)
class _Sweep:
    """One pass over the container, which may take several polls: where the listing is, what it saw."""

    marker: str = ""
    latest: datetime | None = None
    """The latest LastModified seen (starting from the cursor)."""
    held: datetime | None = None
    """The oldest LastModified of a blob not settled yet: the cursor must not pass it."""
    started: datetime = field(default_factory=lambda: datetime.now(UTC))
    """When the sweep began: a blob written while it runs may land on a page already listed, so the cursor
    stored at its end stays SWEEP_OVERLAP before this (receipts keep the overlap from running anything twice)."""


class BlobTriggerListener:
    """Scans one function's container and runs the function once per new blob version."""

    def __init__(
        self,
        function: TriggeredFunction,
        services: InvocationServices,
        *,
        settings: BlobTriggerSettings | None = None,
    ) -> None:
        where = f"function {function.name!r}: blobTrigger {function.trigger.name!r}"
        path = function.trigger.field("path")
        if not isinstance(path, str) or not path.strip("/"):
            raise ConfigurationError(f"{where} needs a 'path' (container/{{name}})")
        source = enum_text(function.trigger.field("source"))
        if source and source.lower() != "logsandcontainerscan":
            raise ConfigurationError(
                f"{where} has source {source!r}; durable-azure runs the polling blob trigger only "
                "(LogsAndContainerScan): remove `source` or set it to LogsAndContainerScan"
            )
        if services.account_for is None or not services.host_id:
            raise ConfigurationError(f"{where}: this host gives no storage account or host id to triggers")
        self._function = function
        self._services = services
        self._settings = settings or load_blob_trigger_settings(function)
        self.pattern = BlobPathPattern.parse(path, where=where)
        self._connection = function.trigger.field("connection") or None
        self._account: StorageAccount = services.account_for(self._connection)
        host_blobs = services.account_for(None).blobs
        self.receipts = ReceiptStore(host_blobs, services.host_id, function.name)
        self._cursor_store = ScanCursor(
            host_blobs, services.host_id, self._account.account_name, self.pattern.container
        )
        self._cursor: datetime | None = None
        self._sweep = _Sweep()
        self._running: dict[tuple[str, str], asyncio.Task[None]] = {}
        self._settled: dict[tuple[str, str], datetime] = {}
        """Versions found complete at or after the cursor, so the next scans do not ask for their receipts again."""
        self._stopping = asyncio.Event()
        self._polling = asyncio.Lock()
        self._loop_task: asyncio.Task[None] | None = None

    def describe(self) -> str:
        return f"blobTrigger: {self.pattern}"

    async def start(self) -> None:
        await self.receipts.prepare()
        self._cursor = await self._cursor_store.read()
        self._sweep = _Sweep(latest=self._cursor)
        self._loop_task = asyncio.create_task(self._poll_loop(), name=f"blob-trigger-{self._function.name}")

    async def stop(self) -> None:
        self._stopping.set()
        if self._loop_task is not None:
            await self._loop_task
        await self.drain()

    async def drain(self) -> None:
        """Wait until the invocations started so far have finished (tests step the listener with this)."""
        while self._running:
            await asyncio.gather(*self._running.values(), return_exceptions=True)

    async def _poll_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                await self.poll_once()
            except (StorageError, OSError) as error:
                logger.warning("blob_trigger.scan_failed function=%s error=%s", self._function.name, error)
            except Exception:  # the loop must outlive a surprise: the next poll starts the sweep afresh
                logger.exception("blob_trigger.scan_failed function=%s", self._function.name)
                self._sweep = _Sweep(latest=self._cursor)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self._settings.polling_interval)

    async def poll_once(self) -> None:
        """One poll: up to BLOBS_PER_POLL blobs of the current sweep listed, each new version claimed and started.

        At the end of a sweep (the listing's last page) the cursor is stored if it moved: to the latest
        LastModified seen, but no later than the oldest blob still being handled here or elsewhere.
        """
        async with self._polling:  # one poll at a time: they share the sweep
            await self._poll()

    async def _poll(self) -> None:
        sweep = self._sweep
        listed = 0
        while listed < BLOBS_PER_POLL:
            items, next_marker = await self._list_page(sweep.marker, BLOBS_PER_POLL - listed)
            listed += len(items)
            for item in items:
                await self._consider(item, sweep)
            # Only once every blob of the page was considered: a failed claim lists the page again next poll.
            sweep.marker = next_marker
            if not sweep.marker:
                break
        if sweep.marker:
            return
        self._sweep = _Sweep(latest=self._cursor)
        cursor = sweep.latest if sweep.held is None or sweep.latest is None else min(sweep.latest, sweep.held)
        if cursor is not None:
            cursor = min(cursor, sweep.started - SWEEP_OVERLAP)
            cursor = max(cursor, self._cursor) if self._cursor is not None else cursor
        if cursor is not None and cursor != self._cursor and not self._stopping.is_set():
            await self._cursor_store.write(cursor)
            self._cursor = cursor
            self._settled = {key: modified for key, modified in self._settled.items() if modified >= cursor}
            self._sweep = _Sweep(latest=cursor)

    async def _consider(self, item: BlobItem, sweep: _Sweep) -> None:
        modified, etag = item.properties.last_modified, item.properties.etag
        if modified is None or etag is None:
            return
        sweep.latest = modified if sweep.latest is None or modified > sweep.latest else sweep.latest
        if self._cursor is not None and modified < self._cursor:
            return
        parts = self.pattern.match(item.name)
        if parts is None or (item.name, etag) in self._settled:
            return
        if not await self._start_unless_settled(item, etag, parts):
            sweep.held = modified if sweep.held is None or modified < sweep.held else sweep.held

    async def _list_page(self, marker: str, max_results: int) -> tuple[list[BlobItem], str]:
        try:
            return await self._account.blobs.list_blobs_page(
                self.pattern.container, prefix=self.pattern.prefix, marker=marker, max_results=min(max_results, 5000)
            )
        except StorageError as error:
            if error.code == "ContainerNotFound":
                return [], ""
            raise

    async def _start_unless_settled(self, item: BlobItem, etag: str, parts: dict[str, str]) -> bool:
        """Claim and start this version if it is free; True only when it needs nothing more (receipt complete)."""
        key = (item.name, etag)
        if key in self._running:
            return False
        if len(self._running) >= self._settings.max_degree_of_parallelism or self._stopping.is_set():
            return False
        outcome, claim = await self.receipts.claim(self.pattern.container, item.name, etag)
        if outcome is ClaimOutcome.DONE:
            if item.properties.last_modified is not None:
                self._settled[key] = item.properties.last_modified
            return True
        if claim is None:
            return False
        task = asyncio.create_task(self._process(item, etag, parts, claim))
        self._running[key] = task
        task.add_done_callback(lambda _: self._running.pop(key, None))
        return False

    async def _process(self, item: BlobItem, etag: str, parts: dict[str, str], claim: Claim) -> None:
        renewal = asyncio.create_task(self._renew(claim))
        try:
            await self._attempts(item, etag, parts, claim)
        except LeaseLostError:
            logger.warning("blob_trigger.lease_lost function=%s blob=%s", self._function.name, item.name)
        except Exception:
            logger.exception("blob_trigger.failed function=%s blob=%s", self._function.name, item.name)
            await self.receipts.release(claim)
        finally:
            renewal.cancel()

    async def _attempts(self, item: BlobItem, etag: str, parts: dict[str, str], claim: Claim) -> None:
        container, name = self.pattern.container, item.name
        while True:
            attempt = await self.receipts.record_attempt(claim)
            if attempt > self._settings.max_dequeue_count:  # earlier processes used the budget up
                await self._poison(name, etag, claim)
                return
            blob = await self._account.blobs.get(container, name)
            if blob is None or blob.etag != etag:  # deleted or overwritten: the new version has its own receipt
                await self.receipts.complete(claim)
                return
            metadata = blob_metadata(self._account, container, name, blob.properties)
            value_type = parameter_value_type(self._function.function, self._function.trigger)
            value = blob_value(blob.data, value_type, metadata=metadata)
            try:
                await invoke(self._function, value, self._services, binding_data={**metadata, **parts})
            except Exception as error:
                logger.warning(
                    "blob_trigger.attempt_failed function=%s blob=%s/%s attempt=%d/%d error=%s",
                    self._function.name, container, name, attempt, self._settings.max_dequeue_count, error,
                )  # fmt: skip
                if attempt >= self._settings.max_dequeue_count:
                    await self._poison(name, etag, claim)
                    return
                if self._stopping.is_set():
                    await self.receipts.release(claim)
                    return
                continue
            await self.receipts.complete(claim)
            logger.info("blob_trigger.processed function=%s blob=%s/%s", self._function.name, container, name)
            return

    async def _poison(self, name: str, etag: str, claim: Claim) -> None:
        notice = {
            "Type": "BlobTrigger",
            "FunctionId": function_id(self._function.name),
            "BlobType": "BlockBlob",
            "ContainerName": self.pattern.container,
            "BlobName": name,
            "ETag": etag,
        }
        text = encode(json.dumps(notice).encode(), self._settings.message_encoding)
        await send_creating(self._account, POISON_QUEUE, text)
        logger.error(
            "message.poison function=%s blob=%s/%s attempts=%d queue=%s",
            self._function.name, self.pattern.container, name, self._settings.max_dequeue_count, POISON_QUEUE,
        )  # fmt: skip
        await self.receipts.complete(claim)

    async def _renew(self, claim: Claim) -> None:
        """Keep the receipt's lease while the function runs (a third of the lease period between renewals).

        A failed renewal is tried again at the next step: the lease lasts LEASE_SECONDS, so one or two failures
        in a row lose nothing. Only a lease that is gone (another process took the receipt) ends the renewals.
        """
        while True:
            await asyncio.sleep(LEASE_SECONDS / 3)
            try:
                await self.receipts.renew(claim)
            except LeaseLostError:
                logger.warning("blob_trigger.lease_lost receipt=%s: another process may run this blob", claim.receipt)
                return
            except StorageError as error:
                logger.warning("blob_trigger.renew_failed receipt=%s error=%s (trying again)", claim.receipt, error)


def _listener(function: TriggeredFunction, services: InvocationServices) -> BlobTriggerListener:
    return BlobTriggerListener(function, services)


register("blobTrigger", _listener)

__all__ = ["POISON_QUEUE", "BlobTriggerListener"]
