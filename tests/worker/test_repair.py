"""Stuck-instance repair: work in flight whose message storage lost is found and sent again.

The losses are real: the queues are cleared while work is in flight (as an
emulator killed before it saved, or a failover, would lose them), or history
is written with nothing queued behind it. The repair must find what is
missing, send exactly that, and leave alone what is still alive (an activity
running in a worker, an instance waiting for an event).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from datetime import UTC, datetime, timedelta

import pytest

from durable_azure.azure_storage import InstanceRecord, TaskHub
from durable_azure.client import DurableOrchestrationClient
from durable_azure.history import (
    ExecutionCompleted,
    ExecutionStarted,
    OrchestrationInstance,
    OrchestrationStatus,
    OrchestratorStarted,
    SubOrchestrationInstanceCompleted,
    SubOrchestrationInstanceCreated,
    TaskScheduled,
    TimerCreated,
    TimerFired,
)
from durable_azure.status import OrchestrationRuntimeStatus
from durable_azure.worker import Worker
from durable_azure.worker.repair import StuckInstanceRepair
from tests.worker import apps
from tests.worker.conftest import TEST_SETTINGS
from tests.worker.gating import WAIT_SECONDS, Gate, wait_until

REPAIRING = dataclasses.replace(
    TEST_SETTINGS, repair_after=timedelta(seconds=2), repair_interval=timedelta(seconds=0.5)
)
LONG_AGO = datetime.now(UTC) - timedelta(hours=1)


async def lose_every_message(hub: TaskHub) -> None:
    """What storage losing its last writes looks like from here: in-flight messages are simply gone."""
    await asyncio.gather(*(queue.clear() for queue in [*hub.control_queues, hub.work_item_queue]))


async def test_an_activity_whose_work_item_was_lost_runs_again_and_completes(task_hub: TaskHub, caplog) -> None:
    gate = Gate()
    client = DurableOrchestrationClient(task_hub)
    first = Worker(task_hub, gate.registry("first", waits=True), REPAIRING)
    await first.start()
    instance_id = await client.start_new("gated_once")
    await wait_until(lambda: gate.runs.get("first") == 1)
    await lose_every_message(task_hub)  # the anchor that stood for the running activity is gone
    await first.stop(timeout=0.5)  # and the worker running it dies before storing its outcome
    gate.opened.set()
    with caplog.at_level(logging.WARNING, logger="durable_azure.worker.repair"):
        async with Worker(task_hub, gate.registry("second", waits=False), REPAIRING):
            status = await client.wait_for_completion(instance_id, timeout=WAIT_SECONDS)
    await client.close()
    assert status.runtime_status == OrchestrationRuntimeStatus.Completed and status.output == "second"
    assert any("activity gated (task 0)" in record.getMessage() for record in caplog.records)


async def test_a_lost_timer_fires_and_a_lost_start_starts(task_hub: TaskHub) -> None:
    client = DurableOrchestrationClient(task_hub)
    async with Worker(task_hub, apps.registry(), REPAIRING):
        timer_id = await client.start_new("timer_then_done", client_input=2)
        await wait_until(lambda: _is_running(client, timer_id))
    await lose_every_message(task_hub)  # the timer message
    pending_id = await client.start_new("hello_sequence")
    await lose_every_message(task_hub)  # the start message
    async with Worker(task_hub, apps.registry(), REPAIRING):
        timer = await client.wait_for_completion(timer_id, timeout=WAIT_SECONDS)
        pending = await client.wait_for_completion(pending_id, timeout=WAIT_SECONDS)
    await client.close()
    assert timer.output == "timer fired"
    assert pending.output == ["Hello Tokyo!", "Hello Seattle!", "Hello London!"]


async def _is_running(client: DurableOrchestrationClient, instance_id: str) -> bool:
    status = await client.get_status(instance_id)
    return status is not None and status.runtime_status == OrchestrationRuntimeStatus.Running


async def test_an_activity_still_running_somewhere_is_left_alone(task_hub: TaskHub) -> None:
    gate = Gate()
    client = DurableOrchestrationClient(task_hub)
    async with Worker(task_hub, gate.registry("only", waits=True), REPAIRING):
        instance_id = await client.start_new("gated_once")
        await wait_until(lambda: gate.runs.get("only") == 1)
        await asyncio.sleep(4)  # well past repairAfter: the worker's own sweep must see it running here
        outside = StuckInstanceRepair(task_hub, after=timedelta(seconds=2), clock=lambda: datetime.now(UTC))
        await wait_until(lambda: _published(task_hub, instance_id))  # and others see it in its presence blob
        assert (await outside.check(instance_id)).missing == []
        gate.opened.set()
        status = await client.wait_for_completion(instance_id, timeout=WAIT_SECONDS)
    await client.close()
    assert status.output == "only" and gate.runs == {"only": 1}


async def _published(hub: TaskHub, instance_id: str) -> bool:
    return any(running[0] == instance_id for running in await hub.presence.running_activities())


async def write_instance(
    hub: TaskHub, instance_id: str, execution_id: str, events: list, status: OrchestrationStatus
) -> None:
    record = InstanceRecord(
        instance_id=instance_id,
        name=events[0].name,
        runtime_status=status,
        execution_id=execution_id,
        created_time=LONG_AGO,
        last_updated_time=LONG_AGO,
    )
    await hub.instances.create(record, etag=None)
    await hub.history.append(instance_id, execution_id=execution_id, start_index=0, events=events, etag=None)


def started(instance_id: str, execution_id: str, name: str, **fields) -> list:
    instance = OrchestrationInstance(instance_id=instance_id, execution_id=execution_id)
    return [
        ExecutionStarted(orchestration_instance=instance, name=name, timestamp=LONG_AGO, **fields),
        OrchestratorStarted(timestamp=LONG_AGO),
    ]


async def test_what_is_missing_for_activities_timers_and_children(task_hub: TaskHub) -> None:
    repair = StuckInstanceRepair(task_hub, after=timedelta(minutes=5), clock=lambda: datetime.now(UTC))
    parent = [
        *started("parent", "p1", "parent"),
        TaskScheduled(event_id=0, name="say_hello", input='"x"', timestamp=LONG_AGO),
        TimerCreated(event_id=1, fire_at=LONG_AGO, timestamp=LONG_AGO),
        SubOrchestrationInstanceCreated(
            event_id=2, instance_id="never-started", name="hello_sequence", timestamp=LONG_AGO
        ),
        SubOrchestrationInstanceCreated(event_id=3, instance_id="finished", name="hello_sequence", timestamp=LONG_AGO),
        TimerCreated(event_id=4, fire_at=datetime.now(UTC) + timedelta(days=1), timestamp=LONG_AGO),
    ]
    await write_instance(task_hub, "parent", "p1", parent, OrchestrationStatus.Running)
    finished_execution = repair_child_execution("p1", 3)
    child = [
        *started("finished", finished_execution, "hello_sequence"),
        ExecutionCompleted(orchestration_status=OrchestrationStatus.Completed, result='"done"', timestamp=LONG_AGO),
    ]
    await write_instance(task_hub, "finished", finished_execution, child, OrchestrationStatus.Completed)
    found = await repair.check("parent", running=set())
    assert found.missing == [
        "activity say_hello (task 0)",
        "timer 1",
        "start of sub-orchestration never-started",
        "outcome of sub-orchestration finished (Completed)",
    ]
    work_item, timer, start, outcome = (message.data.event for message in found.messages)
    assert isinstance(work_item, TaskScheduled) and work_item.event_id == 0
    assert isinstance(timer, TimerFired) and timer.timer_id == 1
    assert isinstance(start, ExecutionStarted) and start.parent_instance.task_schedule_id == 2
    assert start.orchestration_instance.execution_id == repair_child_execution("p1", 2)
    assert isinstance(outcome, SubOrchestrationInstanceCompleted) and outcome.result == '"done"'
    assert found.messages[0].queue is task_hub.work_item_queue
    assert found.messages[2].queue is task_hub.control_queue_for("never-started")
    assert found.recheck_at is not None and found.recheck_at > datetime.now(UTC)  # the day-long timer
    running_here = await repair.check("parent", running={("parent", "p1", 0)})
    assert "activity say_hello (task 0)" not in running_here.missing


def repair_child_execution(parent_execution: str, task_id: int) -> str:
    import uuid

    return uuid.uuid5(uuid.NAMESPACE_OID, f"{parent_execution}:{task_id}").hex


async def test_a_quiet_instance_is_read_once_and_an_unstarted_one_gets_its_start(task_hub: TaskHub) -> None:
    waiting = [*started("waiting", "w1", "approval")]
    await write_instance(task_hub, "waiting", "w1", waiting, OrchestrationStatus.Running)
    pending = InstanceRecord(
        instance_id="pending",
        name="hello_sequence",
        runtime_status=OrchestrationStatus.Pending,
        execution_id="e1",
        input='"in"',
        created_time=LONG_AGO,
        last_updated_time=LONG_AGO,
    )
    await task_hub.instances.create(pending, etag=None)
    repair = StuckInstanceRepair(task_hub, after=timedelta(minutes=5), clock=lambda: datetime.now(UTC))
    first = await repair.sweep()
    assert [(r.instance_id, r.missing) for r in first] == [("pending", ["its start"])]
    [message] = first[0].messages
    assert message.data.event.input == '"in"' and message.data.event.orchestration_instance.execution_id == "e1"
    task_hub.account.counter.reset()
    assert await repair.sweep() == []
    counts = task_hub.account.counter.snapshot()
    assert counts["table.query"] == 1  # only the candidates: the waiting instance is not read again


@pytest.mark.parametrize("status", [OrchestrationStatus.Completed, OrchestrationStatus.Suspended])
async def test_finished_and_suspended_instances_are_not_swept(task_hub: TaskHub, status: OrchestrationStatus) -> None:
    events = [*started("x", "e", "approval"), TaskScheduled(event_id=0, name="say_hello", timestamp=LONG_AGO)]
    await write_instance(task_hub, "x", "e", events, status)
    repair = StuckInstanceRepair(task_hub, after=timedelta(minutes=5), clock=lambda: datetime.now(UTC))
    assert await repair.sweep() == []


async def test_a_finished_history_behind_a_running_row_gets_its_row_fixed(task_hub: TaskHub) -> None:
    events = [
        *started("done", "d1", "approval"),
        ExecutionCompleted(orchestration_status=OrchestrationStatus.Completed, result='"yes"', timestamp=LONG_AGO),
    ]
    await write_instance(task_hub, "done", "d1", events, OrchestrationStatus.Running)  # the row's last write was lost
    repair = StuckInstanceRepair(task_hub, after=timedelta(minutes=5), clock=lambda: datetime.now(UTC))
    [fixed] = await repair.sweep()
    assert fixed.missing == ["its Instances row (Completed in history)"] and fixed.messages == []
    record = await task_hub.instances.get("done")
    assert record is not None and (record.runtime_status, record.output) == (OrchestrationStatus.Completed, '"yes"')


async def test_a_running_child_whose_row_was_lost_is_repaired_through_its_parent(task_hub: TaskHub) -> None:
    parent = [
        *started("mother", "m1", "parent"),
        SubOrchestrationInstanceCreated(event_id=0, instance_id="orphan", name="hello_sequence", timestamp=LONG_AGO),
    ]
    await write_instance(task_hub, "mother", "m1", parent, OrchestrationStatus.Running)
    child_execution = repair_child_execution("m1", 0)
    child = [
        *started("orphan", child_execution, "hello_sequence"),
        TaskScheduled(event_id=0, name="say_hello", input='"Tokyo"', timestamp=LONG_AGO),
    ]
    await task_hub.history.append("orphan", execution_id=child_execution, start_index=0, events=child, etag=None)
    repair = StuckInstanceRepair(task_hub, after=timedelta(minutes=5), clock=lambda: datetime.now(UTC))
    [found] = await repair.sweep()  # the child has no row: only its parent leads to it
    assert found.missing == [
        "sub-orchestration orphan: activity say_hello (task 0); its Instances row (Running in history)"
    ]
    [work_item] = found.children[0].messages
    assert work_item.queue is task_hub.work_item_queue and work_item.data.instance.instance_id == "orphan"
    record = await task_hub.instances.get("orphan")
    assert record is not None and (record.name, record.runtime_status) == (
        "hello_sequence",
        OrchestrationStatus.Running,
    )


async def test_after_lost_writes_a_finished_row_over_an_unfinished_history_is_repaired(task_hub: TaskHub) -> None:
    """The row's Completed was written (or retried) after storage lost the History append that finished it."""
    events = [
        *started("ahead", "a1", "hello_sequence"),
        TaskScheduled(event_id=0, name="say_hello", timestamp=LONG_AGO),
    ]
    await write_instance(task_hub, "ahead", "a1", events, OrchestrationStatus.Running)
    await task_hub.instances.update(
        "ahead", runtime_status=OrchestrationStatus.Completed, last_updated_time=datetime.now(UTC)
    )
    repair = StuckInstanceRepair(task_hub, after=timedelta(minutes=5), clock=lambda: datetime.now(UTC))
    assert await repair.sweep() == []  # finished rows are not looked at in ordinary times
    repair.suspect_lost_writes()  # an episode found storage behind its cache
    [found] = await repair.sweep()
    assert found.instance_id == "ahead" and found.missing == ["activity say_hello (task 0)"]
    assert await repair.sweep() == []  # and once is enough: its row has not changed since
