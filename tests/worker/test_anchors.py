"""Anchors: activities run without a work item, their episode's control message kept as the recovery path.

A worker that dies mid-activity leaves that message behind; once its
visibility timeout passes the next owner receives it, finds it already
applied, and sends a work item for every activity history shows unfinished.
A worker that lives keeps the message invisible by renewing it, so it is
never redelivered while the activity runs, however long.
"""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import timedelta

import pytest

from durable_azure.azure_storage import TaskHub
from durable_azure.client import DurableOrchestrationClient
from durable_azure.worker import Worker, anchors
from tests.worker.conftest import TEST_SETTINGS
from tests.worker.gating import (
    WAIT_SECONDS,
    Gate,
    gated_pair,
    has_visible,
    is_empty,
    record_work_item_receives,
    stored_message_count,
    wait_until,
)

# Short timeouts, so a dead worker's anchor comes back within the test.
SETTINGS = dataclasses.replace(TEST_SETTINGS, control_queue_visibility_timeout=timedelta(seconds=2))


async def test_a_worker_that_dies_mid_activity_leaves_an_anchor_the_next_owner_recovers(
    task_hub: TaskHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    received = record_work_item_receives(task_hub, monkeypatch)
    async with gated_pair(task_hub, SETTINGS) as (gate, first, second), DurableOrchestrationClient(task_hub) as client:
        instance_id = await client.start_new("gated_once")
        await wait_until(lambda: gate.runs.get("first") == 1)
        control_queue = task_hub.control_queue_for(instance_id)
        # No work item exists for the running activity: only its anchor, the start message, is stored.
        assert await is_empty(task_hub.work_item_queue, task_hub)
        assert await stored_message_count(control_queue, task_hub) == 1
        await first.stop(timeout=0.1)  # it dies mid-activity: the anchor is neither deleted nor renewed
        await second.start()
        status = await client.wait_for_completion(instance_id, timeout=WAIT_SECONDS)
        assert status.output == "second"
        assert received == [1]  # the recovered work item, received once by the second worker
        await wait_until(lambda: is_empty(control_queue, task_hub))  # and the anchor is gone


async def test_an_activity_outliving_the_visibility_timeout_runs_once(
    task_hub: TaskHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    received = record_work_item_receives(task_hub, monkeypatch)
    gate = Gate()
    worker = Worker(task_hub, gate.registry("only", waits=True), SETTINGS, worker_id="only")
    async with worker, DurableOrchestrationClient(task_hub) as client:
        instance_id = await client.start_new("gated_once")
        await wait_until(lambda: gate.runs.get("only") == 1)
        # Three visibility timeouts pass while the activity runs: the anchor is renewed, never redelivered.
        await asyncio.sleep(6.0)
        gate.opened.set()
        status = await client.wait_for_completion(instance_id, timeout=WAIT_SECONDS)
    assert status.output == "only"
    assert gate.runs == {"only": 1}  # no recovery sent it again
    assert received == []


async def test_a_wide_fan_out_reaches_the_queue_a_window_at_a_time(
    make_task_hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(anchors, "QUEUED_WINDOW", 5)
    hub = await make_task_hub()
    async with gated_pair(hub, SETTINGS, first_slots=2) as (gate, _, second):
        async with DurableOrchestrationClient(hub) as client:
            instance_id = await client.start_new("gated_fan_out", client_input=30)
            await wait_until(lambda: gate.runs.get("first") == 2)
            # 2 run and 2 wait on the first worker; of the other 26 only a window of 5 is in the queue
            await wait_until(lambda: has_visible(hub.work_item_queue, hub, 5))
            most_stored = 0

            async def done() -> bool:
                nonlocal most_stored
                most_stored = max(most_stored, await stored_message_count(hub.work_item_queue, hub))
                return gate.runs.get("second") == 26

            await second.start()  # it takes the window; each result that comes home lets 5 more out
            await wait_until(done)
            gate.opened.set()
            status = await client.wait_for_completion(instance_id, timeout=WAIT_SECONDS)
        assert status.output == list(range(30))
        assert gate.runs == {"first": 4, "second": 26}
        assert most_stored <= 5


async def test_a_worker_that_stops_sends_its_waiting_fan_out_on(make_task_hub, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(anchors, "QUEUED_WINDOW", 3)
    hub = await make_task_hub()
    async with gated_pair(hub, SETTINGS, first_slots=2) as (gate, first, second):
        async with DurableOrchestrationClient(hub) as client:
            instance_id = await client.start_new("gated_fan_out", client_input=12)
            await wait_until(lambda: has_visible(hub.work_item_queue, hub, 3))
            gate.opened.set()  # its two running activities may finish; everything else is handed over
            await first.stop(timeout=5)
            await second.start()
            status = await client.wait_for_completion(instance_id, timeout=WAIT_SECONDS)
        assert status.output == list(range(12))
