"""The timer listener against Azurite: once per occurrence across hosts, past due, run on startup, stop.

Each test has its own host id, so its lock and status blobs are its own. Firing times are recorded by the
functions; nothing asserts how late they were (bench/timer_lateness.py measures that).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import json
import logging
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import azure.functions as func
import pytest
import pytest_asyncio
from azure.core.exceptions import HttpResponseError
from azure.storage.blob.aio import BlobLeaseClient, BlobServiceClient

from durable_azure.azure_storage import StorageAccount, TaskHub
from durable_azure.client import DurableOrchestrationClient
from durable_azure.errors import ConfigurationError
from durable_azure.functions.indexing import InvocationServices, TriggeredFunction, binding_spec, index_app
from durable_azure.functions.triggers import listener_for, trigger_types
from durable_azure.functions.triggers.singleton import HOSTS_CONTAINER, listener_lock_name
from durable_azure.functions.triggers.timer import CLAIM_METADATA, TimerListener
from durable_azure.functions.triggers.timer_status import status_blob_name
from durable_azure.functions.urls import ManagementUrls
from tests.functions.harness import running_app

APP_DIR = Path(__file__).parents[1] / "timer_app"
EVERY_SECOND = "* * * * * *"
FAST_RETRY = 0.2


def timer_function(name: str, function: Callable[..., Any], schedule: str, **fields: Any) -> TriggeredFunction:
    raw = {"type": "timerTrigger", "name": "timer", "direction": "in", "schedule": schedule, **fields}
    return TriggeredFunction(name=name, function=function, trigger=binding_spec(name, raw), bindings=())


@pytest_asyncio.fixture
async def services(storage_account: StorageAccount) -> AsyncIterator[InvocationServices]:
    """Services on the test account with a host id of this test's own (the client is never used)."""
    client = DurableOrchestrationClient(TaskHub(storage_account, "TimerUnused"))

    async def client_for(task_hub: str | None, connection_name: str | None) -> DurableOrchestrationClient:
        return client

    yield InvocationServices(
        client=client,
        client_for=client_for,
        management=ManagementUrls(base_url="http://127.0.0.1:7071", task_hub="TimerUnused", connection_name="Storage"),
        account_for=lambda connection_name: storage_account,
        host_id=f"timertest-{uuid.uuid4().hex[:16]}",
    )
    await client.close()


class Recorder:
    """Firings of one or more functions: (who, wall time, TimerRequest), and the occurrence each one ran."""

    def __init__(self) -> None:
        self.firings: list[tuple[str, float, func.TimerRequest]] = []
        self.occurrences: list[datetime.datetime | None] = []
        self.listeners: dict[str, TimerListener] = {}
        self.changed = asyncio.Event()

    def function(self, who: str) -> Callable[[func.TimerRequest], Any]:
        async def record(timer: func.TimerRequest) -> None:
            self.firings.append((who, time.time(), timer))
            listener = self.listeners.get(who)
            self.occurrences.append(listener.next_occurrence if listener is not None else None)
            self.changed.set()

        return record

    def listener(self, who: str, schedule: str, services: InvocationServices) -> TimerListener:
        """A listener of the function "tick" recording as `who`, on `services`' host id."""
        function = timer_function("tick", self.function(who), schedule)
        self.listeners[who] = TimerListener(function, services, lock_retry_seconds=FAST_RETRY)
        return self.listeners[who]

    async def wait_for(self, count: int, timeout: float = 10) -> None:
        async def reached() -> None:
            while len(self.firings) < count:
                self.changed.clear()
                await self.changed.wait()

        await asyncio.wait_for(reached(), timeout)

    def seconds(self, who: str | None = None) -> list[int]:
        return [int(moment) for name, moment, _ in self.firings if who is None or name == who]


def assert_each_occurrence_once(recorder: Recorder) -> None:
    """No occurrence ran twice, by the occurrence each run was for and by the second it started in."""
    assert None not in recorder.occurrences
    assert len(recorder.occurrences) == len(set(recorder.occurrences)), f"fired twice: {recorder.occurrences}"
    seconds = recorder.seconds()
    assert len(seconds) == len(set(seconds)), f"an occurrence fired twice: {sorted(seconds)}"


async def test_timer_trigger_is_registered_and_invalid_schedule_is_a_start_up_error(
    services: InvocationServices,
) -> None:
    assert "timertrigger" in [name.lower() for name in trigger_types()]
    function = timer_function("nightly", Recorder().function("x"), "0 0 25 * * *")
    with pytest.raises(ConfigurationError) as raised:
        listener_for(function, services)
    assert str(raised.value) == (
        "function 'nightly': The schedule expression '0 0 25 * * *' was not recognized as a valid cron "
        "expression or timespan string."
    )


async def test_two_hosts_fire_each_occurrence_once_and_hand_over_on_stop(services: InvocationServices) -> None:
    recorder = Recorder()
    first = recorder.listener("first", EVERY_SECOND, services)
    second = recorder.listener("second", EVERY_SECOND, services)
    await first.start()
    await second.start()
    assert "standby" in second.describe() and "standby" not in first.describe()
    await recorder.wait_for(3)
    await first.stop()
    handed_over = len(recorder.firings)
    await recorder.wait_for(handed_over + 3)
    await second.stop()
    assert_each_occurrence_once(recorder)
    assert {who for who, _, _ in recorder.firings[:handed_over]} == {"first"}
    assert {who for who, _, _ in recorder.firings[handed_over:]} == {"second"}
    assert all(not timer.past_due and timer.schedule_status == {} for _, _, timer in recorder.firings)


async def test_a_holder_whose_lease_moved_on_fires_no_occurrence_again(
    services: InvocationServices, connection_string: str
) -> None:
    """A holder paused past its lease (simulated by breaking it) finds out at its next occurrence and stops."""
    recorder = Recorder()
    first = recorder.listener("first", EVERY_SECOND, services)
    second = recorder.listener("second", EVERY_SECOND, services)
    await first.start()
    await recorder.wait_for(2)
    async with BlobServiceClient.from_connection_string(connection_string) as blob_service:
        blob = blob_service.get_blob_client(HOSTS_CONTAINER, listener_lock_name(services.host_id, "tick"))
        await BlobLeaseClient(blob).break_lease(lease_break_period=0)
    await second.start()
    await recorder.wait_for(len(recorder.firings) + 4)
    await first.stop()
    await second.stop()
    assert_each_occurrence_once(recorder)
    first_of_second = min(moment for who, moment, _ in recorder.firings if who == "second")
    assert all(moment < first_of_second for who, moment, _ in recorder.firings if who == "first")


async def test_each_occurrence_runs_once_while_the_lock_moves_between_three_hosts(
    services: InvocationServices, connection_string: str
) -> None:
    recorder = Recorder()
    listeners = [recorder.listener(f"host{number}", EVERY_SECOND, services) for number in range(3)]
    for listener in listeners:
        await listener.start()
    async with BlobServiceClient.from_connection_string(connection_string) as blob_service:
        blob = blob_service.get_blob_client(HOSTS_CONTAINER, listener_lock_name(services.host_id, "tick"))
        for _ in range(6):
            await asyncio.sleep(0.7)
            with contextlib.suppress(HttpResponseError):  # not leased at this instant
                await BlobLeaseClient(blob).break_lease(lease_break_period=0)
    for listener in listeners:
        await listener.stop()
    assert_each_occurrence_once(recorder)
    assert len(recorder.firings) >= 2


async def write_status(account: StorageAccount, host_id: str, function_name: str, document: dict[str, str]) -> None:
    await account.blobs.create_container(HOSTS_CONTAINER)
    await account.blobs.put(HOSTS_CONTAINER, status_blob_name(host_id, function_name), json.dumps(document).encode())


async def read_status(account: StorageAccount, host_id: str, function_name: str) -> dict[str, str]:
    blob = await account.blobs.get(HOSTS_CONTAINER, status_blob_name(host_id, function_name))
    assert blob is not None
    return json.loads(blob.data)


def five_minutes_before_last_boundary() -> tuple[datetime.datetime, datetime.datetime]:
    """(Last, Next) of a five-minute schedule whose Next was missed a few minutes ago."""
    now = datetime.datetime.now(datetime.UTC).replace(second=0, microsecond=0)
    boundary = now - datetime.timedelta(minutes=now.minute % 5)
    return boundary - datetime.timedelta(minutes=10), boundary - datetime.timedelta(minutes=5)


async def test_a_host_down_across_an_occurrence_runs_it_once_past_due(
    services: InvocationServices, storage_account: StorageAccount
) -> None:
    last, missed = five_minutes_before_last_boundary()
    written = {"Last": last.isoformat(), "Next": missed.isoformat(), "LastUpdated": last.isoformat()}
    await write_status(storage_account, services.host_id, "report", written)
    recorder = Recorder()
    function = timer_function("report", recorder.function("host"), "0 */5 * * * *", runOnStartup=True)
    listener = TimerListener(function, services)
    await listener.start()
    await recorder.wait_for(1)
    await asyncio.sleep(0.3)  # a second start-up invocation (run on startup) would come now
    await listener.stop()
    assert len(recorder.firings) == 1
    timer = recorder.firings[0][2]
    assert timer.past_due is True
    assert datetime.datetime.fromisoformat(timer.schedule_status["Next"]) == missed
    status = await read_status(storage_account, services.host_id, "report")
    assert datetime.datetime.fromisoformat(status["Next"]) > datetime.datetime.now(datetime.UTC)
    assert datetime.datetime.fromisoformat(status["Last"]) > missed


async def test_an_occurrence_started_by_a_crashed_holder_is_not_run_again(
    services: InvocationServices, storage_account: StorageAccount
) -> None:
    """The status says missed, but the lock blob shows the occurrence was started: no past-due run."""
    _, last = five_minutes_before_last_boundary()
    missed = last + datetime.timedelta(minutes=5)
    written = {"Last": last.isoformat(), "Next": missed.isoformat(), "LastUpdated": last.isoformat()}
    await write_status(storage_account, services.host_id, "report", written)
    await storage_account.blobs.put(
        HOSTS_CONTAINER,
        listener_lock_name(services.host_id, "report"),
        b"",
        metadata={CLAIM_METADATA: missed.isoformat().replace("+00:00", "Z")},
    )
    recorder = Recorder()
    listener = TimerListener(timer_function("report", recorder.function("host"), "0 */5 * * * *"), services)
    await listener.start()
    await asyncio.sleep(0.5)
    await listener.stop()
    assert recorder.firings == []


async def test_run_on_startup_runs_once_and_a_new_timer_records_its_next_occurrence(
    services: InvocationServices, storage_account: StorageAccount
) -> None:
    recorder = Recorder()
    function = timer_function("daily", recorder.function("host"), "0 30 9 * * *", runOnStartup=True)
    listener = TimerListener(function, services)
    await listener.start()
    await recorder.wait_for(1)
    await asyncio.sleep(0.3)
    await listener.stop()
    assert len(recorder.firings) == 1
    timer = recorder.firings[0][2]
    assert timer.past_due is False
    assert timer.schedule_status["Last"] == "0001-01-01T00:00:00"
    next_occurrence = datetime.datetime.fromisoformat(timer.schedule_status["Next"])
    assert (next_occurrence.hour, next_occurrence.minute, next_occurrence.second) == (9, 30, 0)
    status = await read_status(storage_account, services.host_id, "daily")
    assert datetime.datetime.fromisoformat(status["Next"]) == next_occurrence
    assert status["Last"] != "0001-01-01T00:00:00"


async def test_stop_lets_the_running_invocation_finish_and_releases_the_lock(
    services: InvocationServices, storage_account: StorageAccount
) -> None:
    started, finished = threading.Event(), threading.Event()

    def slow(timer: func.TimerRequest) -> None:
        started.set()
        time.sleep(1)
        finished.set()

    listener = TimerListener(timer_function("slow", slow, EVERY_SECOND), services)
    await listener.start()
    assert await asyncio.to_thread(started.wait, 10)
    await listener.stop()
    assert finished.is_set()
    lock = await storage_account.blobs.get(HOSTS_CONTAINER, listener_lock_name(services.host_id, "slow"))
    assert lock is not None and not lock.is_leased


async def test_a_failed_invocation_is_logged_and_the_schedule_goes_on(
    services: InvocationServices, caplog: pytest.LogCaptureFixture
) -> None:
    calls: list[float] = []

    def failing(timer: func.TimerRequest) -> None:
        calls.append(time.time())
        raise RuntimeError("disk full")

    listener = TimerListener(timer_function("cleanup", failing, EVERY_SECOND), services)
    with caplog.at_level(logging.ERROR, logger="durable_azure.functions.triggers.timer"):
        await listener.start()
        while len(calls) < 2:
            await asyncio.sleep(0.05)
        await listener.stop()
    failures = [record.getMessage() for record in caplog.records if "timer.failed" in record.getMessage()]
    assert failures and "function=cleanup" in failures[0] and "RuntimeError: disk full" in failures[0]


async def test_app_timer_with_a_setting_schedule_starts_an_orchestration(
    task_hub: TaskHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TIMER_APP_SCHEDULE", EVERY_SECOND)
    async with running_app(APP_DIR, task_hub) as app:
        (function,) = app.index.triggered
        listener = listener_for(function, app.services)
        assert listener.describe().startswith("timerTrigger: * * * * * * (next ")
        await listener.start()
        try:
            while await app.client.get_status("ticked-once") is None:
                await asyncio.sleep(0.1)
            status = await app.client.wait_for_completion("ticked-once", timeout=30)
        finally:
            await listener.stop()
    assert status.output == {"past_due": False}


def test_an_unset_schedule_setting_stops_indexing_before_storage_is_touched(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TIMER_APP_SCHEDULE", raising=False)
    with pytest.raises(ConfigurationError, match=r"function 'start_on_schedule'.*'TIMER_APP_SCHEDULE'"):
        index_app(APP_DIR)


def test_an_invalid_schedule_stops_indexing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIMER_APP_SCHEDULE", "0 0 25 * * *")
    with pytest.raises(ConfigurationError, match=r"function 'start_on_schedule': The schedule expression"):
        index_app(APP_DIR)


async def test_a_v1_timer_function_runs_on_startup_with_its_function_json(
    services: InvocationServices, tmp_path: Path
) -> None:
    folder = tmp_path / "Cleanup"
    folder.mkdir()
    binding = {"name": "mytimer", "type": "timerTrigger", "direction": "in", "schedule": "0 0 3 * * *",
               "runOnStartup": "true", "useMonitor": False}  # fmt: skip
    (folder / "function.json").write_text(json.dumps({"scriptFile": "__init__.py", "bindings": [binding]}))
    (folder / "__init__.py").write_text(
        "import json\nimport pathlib\n\nimport azure.functions as func\n\n\n"
        "def main(mytimer: func.TimerRequest) -> None:\n"
        "    with pathlib.Path(__file__).with_name('runs.jsonl').open('a') as runs:\n"
        "        runs.write(json.dumps([mytimer.past_due, mytimer.schedule_status]) + '\\n')\n"
    )
    (function,) = index_app(tmp_path).triggered
    listener = listener_for(function, services)
    runs = folder / "runs.jsonl"
    await listener.start()
    try:
        while not runs.exists():
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)  # a second start-up run would come now
    finally:
        await listener.stop()
    assert [json.loads(line) for line in runs.read_text().splitlines()] == [[False, {}]]
