"""The bench's Azurite and the per-run stack: account, fresh task hub, worker, client, watcher.

Every workload run gets its own StorageAccount (so its RequestCounter sees that
run's traffic and nothing else) and a fresh task hub that is deleted afterwards
(Azurite's queue receives slow down with every message left in the account,
azurite-probe G2). The client shares the worker's task hub object, as a
function app's client binding does in the same process: a start then wakes the
worker's idle poller instead of waiting for its backoff.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

from bench import apps
from bench.instruments import CompletionWatcher, EngineTimer, EntityStateWatcher
from durable_azure.azure_storage import StorageAccount, TaskHub
from durable_azure.azurite import Azurite
from durable_azure.client import DurableOrchestrationClient
from durable_azure.settings import DurableTaskSettings
from durable_azure.worker import Registry, Worker


class DebugLoggingAzurite(Azurite):
    """Azurite with `--debug FILE`, so its own log of every request can cross-check our counter."""

    def __init__(self, location: Path, *, debug_log: Path | None = None) -> None:
        super().__init__(location)
        self.debug_log = debug_log

    def _command(self) -> list[str]:
        command = super()._command()
        if self.debug_log is not None:
            command += ["--debug", str(self.debug_log)]
        return command


@contextlib.contextmanager
def bench_azurite(debug_log: Path | None = None) -> Iterator[Azurite]:
    """A fresh Azurite in disk mode (on tmpfs when the machine has one) on free loopback ports, removed afterwards."""
    shared_memory = Path("/dev/shm")
    parent = shared_memory if shared_memory.is_dir() else None
    location = Path(tempfile.mkdtemp(prefix="durable-azure-bench-", dir=parent))
    server = DebugLoggingAzurite(location, debug_log=debug_log)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(location, ignore_errors=True)


@dataclass(frozen=True, slots=True, kw_only=True)
class RunningHub:
    account: StorageAccount
    hub: TaskHub
    worker: Worker
    client: DurableOrchestrationClient
    watcher: CompletionWatcher
    timer: EngineTimer
    entities: EntityStateWatcher


@contextlib.asynccontextmanager
async def running_hub(
    connection_string: str, timer: EngineTimer, *, start_worker: bool = True, registry: Registry | None = None
) -> AsyncIterator[RunningHub]:
    """A worker with default settings on a fresh hub (started unless told not to; `run.worker.start()` later).

    `registry` defaults to the native app (`bench/apps.py`); `bench/apps_sdk.py` is the same app unmodified.

    The client's one-off hub check is already done when this yields.
    """
    account = StorageAccount.from_connection_string(connection_string)
    hub_name = f"Bench{uuid.uuid4().hex[:12]}"
    hub = TaskHub(account, hub_name)
    worker = Worker(hub, registry or apps.registry(), DurableTaskSettings(hub_name=hub_name))
    client = DurableOrchestrationClient(hub)
    watcher = CompletionWatcher(hub)
    entities = EntityStateWatcher(hub)
    try:
        if start_worker:
            await worker.start()
        await client.get_status("bench-warm-up")  # the client creates-if-missing once; not part of any workload
        yield RunningHub(
            account=account, hub=hub, worker=worker, client=client, watcher=watcher, timer=timer, entities=entities
        )
    finally:
        await client.close()
        await worker.stop(timeout=10)
        with contextlib.suppress(Exception):
            await hub.delete()
        await account.close()
