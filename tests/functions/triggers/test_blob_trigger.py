"""The blob trigger against Azurite: once per version across restarts and hosts, overwrites, poison, bindings.

Listeners are stepped (`poll_once`, then `drain` for the invocations it started) so no test waits on the
polling interval; one test runs the real loop (start/stop) with a short interval.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from durable_azure.azure_storage import StorageAccount, TaskHub
from durable_azure.errors import ConfigurationError
from durable_azure.functions.indexing import TriggeredFunction
from durable_azure.functions.triggers import blob as blob_trigger
from durable_azure.functions.triggers import listener_for
from durable_azure.functions.triggers.blob import POISON_QUEUE, BlobTriggerListener
from durable_azure.functions.triggers.blob_receipts import HOSTS_CONTAINER, ClaimOutcome, scan_info_name
from durable_azure.functions.triggers.blob_settings import BlobTriggerSettings
from tests.functions.harness import RunningApp, running_app
from tests.functions.test_blob_bindings import unique_names

APP_DIR = Path(__file__).parents[1] / "blob_app"
QUICK = BlobTriggerSettings(max_dequeue_count=3, polling_interval=0.1)


@pytest.fixture
def names(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    return unique_names(monkeypatch)


@pytest_asyncio.fixture
async def app(task_hub: TaskHub, names: dict[str, str]) -> AsyncIterator[RunningApp]:
    async with running_app(APP_DIR, task_hub, with_worker=False) as running:
        yield running


def function(app: RunningApp, name: str) -> TriggeredFunction:
    return next(triggered for triggered in app.index.triggered if triggered.name == name)


def listener(app: RunningApp, name: str = "copy_blob", settings: BlobTriggerSettings = QUICK) -> BlobTriggerListener:
    return BlobTriggerListener(function(app, name), app.services, settings=settings)


async def step(*listeners: BlobTriggerListener) -> None:
    """One scan by each listener (concurrently, as separate hosts would), then their invocations finish."""
    await asyncio.gather(*(each.poll_once() for each in listeners))
    await asyncio.gather(*(each.drain() for each in listeners))


async def copies(account: StorageAccount, names: dict[str, str], blob: str) -> list[dict[str, object]]:
    found = []
    await account.blobs.create_container(names["COPIES"])
    for item in await account.blobs.list_blobs(names["COPIES"], prefix=f"{blob}/"):
        downloaded = await account.blobs.get(names["COPIES"], item.name)
        assert downloaded is not None
        found.append(json.loads(downloaded.data))
    return found


async def upload(account: StorageAccount, container: str, name: str, data: bytes) -> None:
    await account.blobs.create_container(container)
    await account.blobs.put(container, name, data)


async def test_new_blob_is_processed_with_its_name_bound_into_the_output(
    app: RunningApp, names: dict[str, str], storage_account: StorageAccount
) -> None:
    watcher = listener(app)
    await watcher.receipts.prepare()
    await upload(storage_account, names["WATCHED"], "in/report.txt", b"hello")
    await upload(storage_account, names["WATCHED"], "ignored.png", b"not watched")
    await step(watcher)
    [copy] = await copies(storage_account, names, "in/report")
    assert copy == {
        "name": f"{names['WATCHED']}/in/report.txt",
        "length": 5,
        "uri": storage_account.blobs.url(names["WATCHED"], "in/report.txt"),
        "text": "HELLO",
    }
    assert await copies(storage_account, names, "ignored") == []


async def test_processed_once_across_a_listener_restart(
    app: RunningApp, names: dict[str, str], storage_account: StorageAccount
) -> None:
    first = listener(app)
    await first.start()
    await upload(storage_account, names["WATCHED"], "a.txt", b"one")
    await first.poll_once()
    await first.stop()
    assert len(await copies(storage_account, names, "a")) == 1
    info = await storage_account.blobs.get(
        HOSTS_CONTAINER, scan_info_name(app.services.host_id, storage_account.account_name, names["WATCHED"])
    )
    assert info is not None and json.loads(info.data)["LatestScan"].endswith("Z")

    second = listener(app, settings=dataclasses.replace(QUICK, polling_interval=60))
    await second.start()  # reads the cursor; its first scan finds nothing new
    await upload(storage_account, names["WATCHED"], "b.txt", b"two")
    await step(second)
    await second.stop()
    assert len(await copies(storage_account, names, "a")) == 1
    assert len(await copies(storage_account, names, "b")) == 1


async def test_two_hosts_process_each_version_once(
    app: RunningApp, names: dict[str, str], storage_account: StorageAccount
) -> None:
    hosts = [listener(app), listener(app)]
    await hosts[0].receipts.prepare()
    for index in range(8):
        await upload(storage_account, names["WATCHED"], f"n{index}.txt", b"x")
    await step(*hosts)
    await step(*hosts)
    for index in range(8):
        assert len(await copies(storage_account, names, f"n{index}")) == 1


async def test_overwritten_blob_is_processed_again(
    app: RunningApp, names: dict[str, str], storage_account: StorageAccount
) -> None:
    watcher = listener(app)
    await watcher.receipts.prepare()
    await upload(storage_account, names["WATCHED"], "doc.txt", b"v1")
    await step(watcher)
    await step(watcher)
    await storage_account.blobs.put(names["WATCHED"], "doc.txt", b"v2")
    await step(watcher)
    assert sorted(str(copy["text"]) for copy in await copies(storage_account, names, "doc")) == ["V1", "V2"]


async def test_failing_function_sends_a_poison_notice_after_the_retry_count(
    app: RunningApp, names: dict[str, str], storage_account: StorageAccount
) -> None:
    failures = function(app, "always_fails").function.__globals__["FAILURES"]
    failures.clear()
    watcher = listener(app, "always_fails")
    await watcher.receipts.prepare()
    await upload(storage_account, names["FAILING"], "bad.bin", b"boom")
    await step(watcher)
    await step(watcher)
    assert failures == ["boom"] * QUICK.max_dequeue_count
    notices = [
        json.loads(base64.b64decode(message.text)) for message in await storage_account.queues.peek(POISON_QUEUE, 32)
    ]
    [notice] = [notice for notice in notices if notice["ContainerName"] == names["FAILING"]]
    assert notice == {
        "Type": "BlobTrigger",
        "FunctionId": "Host.Functions.always_fails",
        "BlobType": "BlockBlob",
        "ContainerName": names["FAILING"],
        "BlobName": "bad.bin",
        "ETag": notice["ETag"],
    }
    blob = await storage_account.blobs.get(names["FAILING"], "bad.bin")
    assert blob is not None and notice["ETag"] == blob.etag


async def test_a_blob_another_host_is_running_holds_the_cursor_until_its_lease_ends(
    app: RunningApp, names: dict[str, str], storage_account: StorageAccount
) -> None:
    """A host that dies mid-run leaves a leased, incomplete receipt: others skip it but keep finding it."""
    watcher = listener(app)
    await watcher.receipts.prepare()
    await upload(storage_account, names["WATCHED"], "slow.txt", b"s")
    blob = await storage_account.blobs.get(names["WATCHED"], "slow.txt")
    assert blob is not None and blob.etag is not None
    outcome, dead_host_claim = await watcher.receipts.claim(names["WATCHED"], "slow.txt", blob.etag)
    assert outcome is ClaimOutcome.CLAIMED and dead_host_claim is not None
    await step(watcher)
    assert await copies(storage_account, names, "slow") == []
    await watcher.receipts.release(dead_host_claim)  # as its lease expiring would
    await step(watcher)
    assert len(await copies(storage_account, names, "slow")) == 1


async def test_running_listener_picks_up_blobs_and_stops_cleanly(
    app: RunningApp, names: dict[str, str], storage_account: StorageAccount
) -> None:
    watcher = listener_for(function(app, "copy_blob"), app.services)
    assert watcher.describe() == f"blobTrigger: {names['WATCHED']}/{{name}}.txt"
    running = listener(app)
    await running.start()
    try:
        await upload(storage_account, names["WATCHED"], "live.txt", b"live")
        for _ in range(200):
            if await copies(storage_account, names, "live"):
                break
            await asyncio.sleep(0.05)
    finally:
        await running.stop()
    assert len(await copies(storage_account, names, "live")) == 1


def test_event_grid_source_and_container_expressions_are_refused(app: RunningApp) -> None:
    copy_blob = function(app, "copy_blob")
    for raw in ({**copy_blob.trigger.raw, "source": "EventGrid"}, {**copy_blob.trigger.raw, "path": "{x}/y"}):
        trigger = dataclasses.replace(copy_blob.trigger, raw=raw)
        with pytest.raises(ConfigurationError, match="function 'copy_blob'"):
            BlobTriggerListener(dataclasses.replace(copy_blob, trigger=trigger), app.services, settings=QUICK)


async def test_a_large_container_is_swept_over_several_polls(
    app: RunningApp, names: dict[str, str], storage_account: StorageAccount, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(blob_trigger, "BLOBS_PER_POLL", 2)
    watcher = listener(app)
    await watcher.receipts.prepare()
    for index in range(5):
        await upload(storage_account, names["WATCHED"], f"s{index}.txt", b"x")
    scan_info = scan_info_name(app.services.host_id, storage_account.account_name, names["WATCHED"])
    processed = []
    for _ in range(3):
        assert await storage_account.blobs.get(HOSTS_CONTAINER, scan_info) is None
        await step(watcher)
        processed.append(sum([len(await copies(storage_account, names, f"s{index}")) for index in range(5)]))
    assert processed == [2, 4, 5]
    assert await storage_account.blobs.get(HOSTS_CONTAINER, scan_info) is not None


async def test_attempts_are_counted_across_processes(
    app: RunningApp, names: dict[str, str], storage_account: StorageAccount
) -> None:
    """A process that died during the last allowed attempt: the next one sends the poison notice, runs nothing."""
    failures = function(app, "always_fails").function.__globals__["FAILURES"]
    failures.clear()
    watcher = listener(app, "always_fails")
    await watcher.receipts.prepare()
    await upload(storage_account, names["FAILING"], "died.bin", b"d")
    blob = await storage_account.blobs.get(names["FAILING"], "died.bin")
    assert blob is not None and blob.etag is not None
    _, dead_host_claim = await watcher.receipts.claim(names["FAILING"], "died.bin", blob.etag)
    assert dead_host_claim is not None
    for _ in range(QUICK.max_dequeue_count):
        await watcher.receipts.record_attempt(dead_host_claim)
    await watcher.receipts.release(dead_host_claim)
    await step(watcher)
    assert failures == []
    notices = [
        json.loads(base64.b64decode(message.text)) for message in await storage_account.queues.peek(POISON_QUEUE, 32)
    ]
    assert [notice["BlobName"] for notice in notices if notice["ContainerName"] == names["FAILING"]] == ["died.bin"]


async def test_a_blob_written_during_a_sweep_behind_its_listing_is_found_by_the_next_sweep(
    app: RunningApp, names: dict[str, str], storage_account: StorageAccount, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A sweep of several polls has listed past `s0`'s place when `s0` is written, and then sees a newer `s9`:
    the cursor stored at its end must not pass `s0`, or no later sweep would look at it."""
    monkeypatch.setattr(blob_trigger, "BLOBS_PER_POLL", 2)
    watcher = listener(app)
    await watcher.receipts.prepare()
    for name in ("s1.txt", "s3.txt", "s5.txt"):
        await upload(storage_account, names["WATCHED"], name, b"x")
    for _ in range(2):  # a first sweep, two pages: all three processed
        await step(watcher)
    await step(watcher)  # the next sweep lists s1 and s3, and goes on at s5 at its next poll
    await asyncio.sleep(1.1)  # LastModified counts whole seconds: s0 newer than s5, s9 newer than s0
    await upload(storage_account, names["WATCHED"], "s0.txt", b"x")
    await asyncio.sleep(1.1)
    await upload(storage_account, names["WATCHED"], "s9.txt", b"x")
    await step(watcher)  # lists s5 and s9; the sweep ends and stores its cursor
    assert await copies(storage_account, names, "s0") == []
    for _ in range(3):  # the next sweep, three pages
        await step(watcher)
    assert len(await copies(storage_account, names, "s0")) == 1
    assert [len(await copies(storage_account, names, f"s{index}")) for index in (1, 3, 5, 9)] == [1, 1, 1, 1]
