"""Orchestrations run end to end by a real worker against Azurite."""

from __future__ import annotations

import asyncio
import json

from durable_azure.status import OrchestrationRuntimeStatus
from tests.worker.conftest import Running

Completed = OrchestrationRuntimeStatus.Completed
Failed = OrchestrationRuntimeStatus.Failed


async def run_to_end(running: Running, name: str, client_input=None, timeout: float = 60):
    instance_id = await running.client.start_new(name, client_input=client_input)
    return await running.client.wait_for_completion(instance_id, timeout=timeout)


async def test_hello_sequence_returns_the_three_greetings_in_order(running: Running) -> None:
    status = await run_to_end(running, "hello_sequence")
    assert status.runtime_status == Completed
    assert status.output == ["Hello Tokyo!", "Hello Seattle!", "Hello London!"]


async def test_fan_out_fan_in_of_200_activities_sums_every_result(running: Running) -> None:
    status = await run_to_end(running, "fan_out_fan_in", 200, timeout=120)
    assert status.runtime_status == Completed
    assert status.output == sum(i * 2 for i in range(200))


async def test_a_durable_timer_fires_and_the_orchestration_goes_on(running: Running) -> None:
    status = await run_to_end(running, "timer_then_done", 2)
    assert status.runtime_status == Completed
    assert status.output == "timer fired"
    assert (status.last_updated_time - status.created_time).total_seconds() >= 2


async def test_an_external_event_completes_a_waiting_orchestration(running: Running) -> None:
    instance_id = await running.client.start_new("approval")
    await _wait_for_status(running, instance_id, OrchestrationRuntimeStatus.Running)
    await running.client.raise_event(instance_id, "Approval", "yes")
    status = await running.client.wait_for_completion(instance_id, timeout=30)
    assert status.output == {"approved": "yes"}


async def test_an_event_raised_right_after_start_is_not_lost(running: Running) -> None:
    instance_id = await running.client.start_new("approval")
    await running.client.raise_event(instance_id, "Approval", {"by": "ana"})
    status = await running.client.wait_for_completion(instance_id, timeout=30)
    assert status.output == {"approved": {"by": "ana"}}


async def test_a_sub_orchestration_result_reaches_its_parent(running: Running) -> None:
    status = await run_to_end(running, "parent")
    assert status.runtime_status == Completed
    assert status.output == {"child": ["Hello Tokyo!", "Hello Seattle!", "Hello London!"]}


async def test_a_finished_sub_orchestration_id_can_be_used_again(running: Running) -> None:
    status = await run_to_end(running, "reuses_child_id")
    assert status.output == ["Hello Tokyo!", "Hello Tokyo!"]


async def test_a_retried_activity_succeeds_on_its_third_attempt(running: Running) -> None:
    status = await run_to_end(running, "retried")
    assert status.runtime_status == Completed
    assert status.output == "ok after 3"


async def test_continue_as_new_restarts_with_new_input_until_done(running: Running) -> None:
    instance_id = await running.client.start_new("countdown", client_input=3)
    status = await running.client.wait_for_completion(instance_id, timeout=30)
    assert status.runtime_status == Completed
    assert status.output == "liftoff"
    history = await running.hub.history.load(instance_id)
    started = [event for event in history.events if type(event).__name__ == "ExecutionStarted"]
    assert len(started) == 1 and json.loads(started[0].input) == 0  # only the last generation is kept


async def test_continue_as_new_without_awaits_goes_on_past_the_per_episode_cap(running: Running) -> None:
    status = await run_to_end(running, "countdown", 150)
    assert status.runtime_status == Completed
    assert status.output == "liftoff"


async def test_an_activity_failure_can_be_caught_by_the_orchestrator(running: Running) -> None:
    status = await run_to_end(running, "catches_failure")
    assert status.runtime_status == Completed
    assert "boom" in status.output and status.output.startswith("caught:")
    # str(e) as apps on the original read it: the extension's reason, then the details, the failure as the
    # extension serializes it (one line of JSON), which apps parse for its Message.
    assert status.output.startswith("caught: Activity function 'fail' failed: ValueError: boom \n {")
    details = json.loads(status.output.split("\n")[1])
    assert details["Message"] == "ValueError: boom"
    assert details["Message"].split(":", 1)[1].lstrip() == "boom"  # the idiom of the extension's issue #2990
    assert details["StackTraceString"].startswith("Traceback") and "ValueError: boom" in details["StackTraceString"]


async def test_a_sub_orchestration_failure_reads_as_on_the_extension(running: Running) -> None:
    status = await run_to_end(running, "catches_child_failure")
    assert status.runtime_status == Completed
    # The child's failure text (its own uncaught activity failure, reason and details) after the extension's
    # prefix; the details in the extension's "Message: ..., StackTrace: ..." form.
    assert status.output == {
        "text_is_reason_then_details": True,
        "reason": "Orchestrator function 'fails_uncaught' failed: Activity function 'fail' failed: ValueError: kaboom",
        "message": "Message: Activity function 'fail' failed: ValueError: kaboom",
        "stack": "Traceback (most recent call last):",
    }


async def test_an_uncaught_activity_failure_fails_the_instance_with_the_error(running: Running) -> None:
    status = await run_to_end(running, "fails_uncaught")
    assert status.runtime_status == Failed
    # The extension's words, then str() of what escaped the orchestrator: here the activity's failure text.
    assert status.output.startswith(
        "Orchestrator function 'fails_uncaught' failed: Activity function 'fail' failed: ValueError: kaboom \n {"
    )


async def test_an_unregistered_orchestrator_fails_with_a_message_naming_it(running: Running) -> None:
    status = await run_to_end(running, "no_such_orchestrator")
    assert status.runtime_status == Failed
    assert "no_such_orchestrator" in json.dumps(status.output)


async def test_payloads_over_the_queue_and_table_limits_round_trip(running: Running) -> None:
    big = "x" * 200_000
    status = await run_to_end(running, "large_payload", big)
    assert status.runtime_status == Completed
    assert status.output == 200_000
    again = await running.client.get_status(status.instance_id, show_input=True)
    assert again.input_ == big


async def _wait_for_status(running: Running, instance_id: str, wanted: OrchestrationRuntimeStatus) -> None:
    for _ in range(200):
        status = await running.client.get_status(instance_id)
        if status is not None and status.runtime_status == wanted:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{instance_id} never reached {wanted}")
