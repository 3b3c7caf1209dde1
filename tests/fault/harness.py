"""What the fault tests share: an app folder, worker processes, the workload, and the checks on its outcome.

The workload is the sample workloads in small: hello sequences, fan-outs,
orchestrations waiting for two external events, timers, and parents of
sub-orchestrations. Every instance's expected output is known, and every
finished history is checked for consistency: one start and one end, every
scheduled task, timer and sub-orchestration resolved exactly once, nothing
resolved that was never scheduled.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from durable_azure.azure_storage import TaskHub
from durable_azure.client import DurableOrchestrationClient
from durable_azure.errors import WaitTimeoutError
from durable_azure.history import (
    ExecutionCompleted,
    ExecutionStarted,
    HistoryEvent,
    SubOrchestrationInstanceCompleted,
    SubOrchestrationInstanceCreated,
    SubOrchestrationInstanceFailed,
    TaskCompleted,
    TaskFailed,
    TaskScheduled,
    TimerCreated,
    TimerFired,
)
from durable_azure.status import OrchestrationRuntimeStatus

APP = Path(__file__).parent / "app"
FAST_PROVIDER = {
    "partitionCount": 4,
    "controlQueueVisibilityTimeout": "00:00:15",
    "workItemQueueVisibilityTimeout": "00:00:15",
    "maxQueuePollingInterval": "00:00:01",
    "leaseInterval": "00:00:15",
    "leaseRenewInterval": "00:00:04",
    "leaseAcquireInterval": "00:00:02",
    "repairAfter": "00:00:20",
    "repairInterval": "00:00:02",
}


def make_app_dir(tmp_path: Path, hub_name: str, *, source: Path = APP, **provider: Any) -> Path:
    """An app folder for the worker processes: `source`'s function_app.py, host.json on `hub_name`."""
    app_dir = tmp_path / "app"
    app_dir.mkdir()
    shutil.copy(source / "function_app.py", app_dir / "function_app.py")
    settings = {**FAST_PROVIDER, **provider}
    host = {"version": "2.0", "extensions": {"durableTask": {"hubName": hub_name, "storageProvider": settings}}}
    (app_dir / "host.json").write_text(json.dumps(host))
    local = {"IsEncrypted": False, "Values": {"FAULT_START_QUEUE": start_queue_name(hub_name)}}
    (app_dir / "local.settings.json").write_text(json.dumps(local))
    return app_dir


def start_queue_name(hub_name: str) -> str:
    """The queue whose messages the app's queue trigger turns into starts (one per task hub)."""
    return f"starts-{hub_name.lower()}"


class WorkerProcesses:
    """`durable-azure worker` processes on one app folder, each logging to its own file."""

    def __init__(self, app_dir: Path, connection_string: str, log_dir: Path) -> None:
        self.app_dir = app_dir
        self.connection_string = connection_string
        self.log_dir = log_dir
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(self, count: int) -> None:
        environment = {**os.environ, "AzureWebJobsStorage": self.connection_string}
        for _ in range(count):
            log = (self.log_dir / f"worker{len(self.processes)}.log").open("w")
            self.processes.append(
                subprocess.Popen(
                    [sys.executable, "-m", "durable_azure", "worker", "--app-dir", str(self.app_dir)],
                    env=environment,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )

    def are_running(self) -> bool:
        return all(process.poll() is None for process in self.processes)

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()

    def logs(self) -> str:
        return "\n".join(path.read_text(errors="replace") for path in sorted(self.log_dir.glob("worker*.log")))

    def log_tail(self) -> str:
        return "\n".join(path.read_text(errors="replace")[-4000:] for path in sorted(self.log_dir.glob("worker*.log")))

    def counts(self) -> dict[str, int]:
        """How often the workers logged what the fault tests report: copies dropped, repairs, stale caches..."""
        text = self.logs()
        patterns = {
            "duplicates dropped": r"message\.discarded .*reason=duplicate",
            "stale caches reloaded": r"cache\.stale",
            "history conflicts": r"history\.conflict",
            "instances repaired": r"instance\.repaired ",
            "anchors recovered": r"activity\.recovered",
            "poison messages": r"message\.poison",
        }
        return {name: len(re.findall(pattern, text)) for name, pattern in patterns.items()}


async def wait_for_all_leases(logs: Callable[[], str], partitions: int) -> None:
    """Until the workers' logs show every partition taken (each worker logs its `lease.acquired`)."""
    deadline = time.monotonic() + 60
    while len(set(re.findall(r"lease\.acquired partition=(\S+)", logs()))) < partitions:
        assert time.monotonic() < deadline, "the workers never took every partition"
        await asyncio.sleep(0.2)


async def wait_for_progress(client: DurableOrchestrationClient, ids: list[str], *, every_started: bool = False) -> None:
    """Kill only once work is really in flight: at least half the instances running, none all done.

    `every_started`: also wait until every instance exists (its start was made and claimed), so a kill
    tests what happens to claimed starts, not to queue messages the worker had not turned into starts yet.
    """
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        statuses = [await client.get_status(i) for i in ids]
        running = sum(s is not None and s.runtime_status == OrchestrationRuntimeStatus.Running for s in statuses)
        if running >= len(ids) // 2 and not (every_started and any(s is None for s in statuses)):
            return
        await asyncio.sleep(0.2)
    raise AssertionError("the workers never started the instances")


@contextmanager
def running_workers(app_dir: Path, connection_string: str, log_dir: Path, count: int) -> Iterator[WorkerProcesses]:
    workers = WorkerProcesses(app_dir, connection_string, log_dir)
    workers.start(count)
    try:
        yield workers
    finally:
        workers.stop()


@dataclass
class Expected:
    instance_id: str
    output: Any
    events: list[Any] = field(default_factory=list)


@dataclass(frozen=True)
class Mix:
    """How many instances of each workload; the total is what the issue calls "orchestrations"."""

    sequences: int = 60
    fan_outs: int = 2
    fan_out_width: int = 100
    event_waiters: int = 50
    timers: int = 48
    parents: int = 40
    pause: float = 0.0
    """Seconds each activity takes."""
    steps: int = 3
    """Activities per sequence."""
    timer_seconds: int = 2

    @property
    def total(self) -> int:
        return self.sequences + self.fan_outs + self.event_waiters + self.timers + self.parents


async def start_workload(client: DurableOrchestrationClient, mix: Mix, prefix: str) -> list[Expected]:
    expected: list[Expected] = []
    for n in range(mix.sequences):
        expected.append(Expected(f"{prefix}-seq-{n}", [f"Hello s{n}-{step}!" for step in range(mix.steps)]))
        await client.start_new("sequence", expected[-1].instance_id, [f"s{n}", mix.pause, mix.steps])
    for n in range(mix.fan_outs):
        expected.append(Expected(f"{prefix}-fan-{n}", sum(2 * v for v in range(mix.fan_out_width))))
        await client.start_new("fan_out", expected[-1].instance_id, [mix.fan_out_width, mix.pause])
    for n in range(mix.event_waiters):
        expected.append(Expected(f"{prefix}-events-{n}", n + 1000, events=[n, 1000]))
        await client.start_new("two_events", expected[-1].instance_id)
    for n in range(mix.timers):
        expected.append(Expected(f"{prefix}-timer-{n}", "Hello after the timer!"))
        await client.start_new("timer_then_hello", expected[-1].instance_id, mix.timer_seconds)
    for n in range(mix.parents):
        child = [f"Hello p{n}-{step}!" for step in range(mix.steps)]
        expected.append(Expected(f"{prefix}-parent-{n}", {"child": child}))
        await client.start_new("parent_of_sequence", expected[-1].instance_id, [f"p{n}", mix.pause, mix.steps])
    return expected


async def raise_events(
    client: DurableOrchestrationClient, expected: list[Expected], which: slice = slice(None), timeout: float = 240
) -> None:
    """Each event waiter gets its events (`which` of them), once its row exists (storage may have lost it)."""
    deadline = time.monotonic() + timeout
    for item in expected:
        for value in item.events[which]:
            while time.monotonic() < deadline:
                if await client.get_status(item.instance_id) is not None:
                    await client.raise_event(item.instance_id, "Add", value)
                    break
                await asyncio.sleep(0.2)


async def wait_for_all(client: DurableOrchestrationClient, expected: list[Expected], timeout: float) -> list[Any]:
    """Every instance's final status; one still unfinished at the deadline comes back as it is then."""
    deadline = time.monotonic() + timeout
    slots = asyncio.Semaphore(20)

    async def wait(item: Expected) -> Any:
        async with slots:
            try:
                return await client.wait_for_completion(item.instance_id, timeout=max(1.0, deadline - time.monotonic()))
            except WaitTimeoutError:
                return await client.get_status(item.instance_id)

    return list(await asyncio.gather(*(wait(item) for item in expected)))


def history_problems(instance_id: str, events: list[HistoryEvent]) -> list[str]:
    """What is inconsistent in one finished execution's history (an empty list when nothing is)."""
    problems: list[str] = []
    kinds = Counter(type(event) for event in events)
    if kinds[ExecutionStarted] != 1 or kinds[ExecutionCompleted] != 1:
        problems.append(f"{instance_id}: {kinds[ExecutionStarted]} starts, {kinds[ExecutionCompleted]} ends")
    scheduled = Counter(
        event.event_id
        for event in events
        if isinstance(event, TaskScheduled | TimerCreated | SubOrchestrationInstanceCreated)
    )
    resolved = Counter(
        event.timer_id if isinstance(event, TimerFired) else event.task_scheduled_id
        for event in events
        if isinstance(
            event,
            TaskCompleted
            | TaskFailed
            | TimerFired
            | SubOrchestrationInstanceCompleted
            | SubOrchestrationInstanceFailed,
        )
    )
    for task_id, count in scheduled.items():
        if count != 1 or resolved[task_id] != 1:
            problems.append(f"{instance_id}: task {task_id} scheduled {count}x, resolved {resolved[task_id]}x")
    problems += [
        f"{instance_id}: task {task_id} resolved, never scheduled" for task_id in resolved if task_id not in scheduled
    ]
    return problems


async def check_outcomes(hub: TaskHub, expected: list[Expected], statuses: list[Any]) -> list[str]:
    """Wrong outputs and inconsistent histories, one line each."""
    problems: list[str] = []
    for item, status in zip(expected, statuses, strict=True):
        if status is None:
            problems.append(f"{item.instance_id}: no such instance")
            continue
        if status.runtime_status != OrchestrationRuntimeStatus.Completed or status.output != item.output:
            problems.append(f"{item.instance_id}: {status.runtime_status} {status.output!r} != {item.output!r}")
            problems.append(await _stored_rows(hub, item.instance_id))
            problems.append(await _stored_rows(hub, f"{item.instance_id}:0"))
            continue
        found = history_problems(item.instance_id, (await hub.history.load(item.instance_id)).events)
        if found:
            found.append(await _stored_rows(hub, item.instance_id))
        problems += found
    return problems


async def _stored_rows(hub: TaskHub, instance_id: str) -> str:
    """The instance's History rows as stored: key, execution, event type (what a wrong history looks like)."""
    from durable_azure.azure_storage import escape_key

    rows = hub.account.tables.query(hub.names.history_table, f"PartitionKey eq '{escape_key(instance_id)}'")
    described = [
        f"{row['RowKey'][-3:]}:{str(row.get('ExecutionId'))[:6]}:{row.get('EventType')}:{row.get('EventId')}"
        f":{row.get('TaskScheduledId', '')}"
        for row in [row async for row in rows]
    ]
    record = await hub.instances.get(instance_id, include_input=False)
    shown = f"{record.runtime_status.name} {record.last_updated_time}" if record else "no row"
    return f"  stored rows of {instance_id} ({shown}): " + ", ".join(described)


AZURITE_DATABASES = ("__azurite_db_blob__.json", "__azurite_db_queue__.json", "__azurite_db_table__.json")


async def wait_until_saved(location: Path, since: float, timeout: float = 20.0) -> None:
    """Until Azurite has saved its databases after `since` (a `time.time()`): what came before survives a kill."""
    deadline = time.monotonic() + timeout
    paths = [location / name for name in AZURITE_DATABASES]
    while time.monotonic() < deadline:
        if all(path.exists() and path.stat().st_mtime > since for path in paths):
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"Azurite did not save {', '.join(AZURITE_DATABASES)} within {timeout:g} s")
