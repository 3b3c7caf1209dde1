"""W6: orchestrations started from an Azure Storage queue trigger, as a Functions app starts them from a queue.

`w6_messages` messages wait on a queue (sent before the clock starts, 32 at a time, base64 as the Functions
default); then the queue listener of `functions/triggers/queue.py` starts, with host.json's default
`extensions.queues` settings, on a function with a `durableClient` input that starts one `hello_sequence`
per message (W1a's orchestration), its instance id the message body. The clock runs from the listener's start
until every orchestration completed. Requests counted: everything the account did in that time (the
listener's receives and deletes, the starts, the worker's episodes and activities), not the producer's sends.

The figure to compare is W1a's orchestrations/s on the same run: the queue trigger adds a receive per batch,
a delete and an invocation per message to W1a's work, and must not be the bottleneck (issue 11: W6 at least
70 % of W1a). Its queue drains from `w6_messages` to none while the orchestrations' own queues are busy, so
its Azurite bound is also measured at that depth (half the messages standing on average).
"""

from __future__ import annotations

import asyncio
import base64
import time
import uuid
from pathlib import Path
from typing import Any

import azure.functions as func

from bench import apps
from bench.harness import RunningHub, running_hub
from bench.instruments import EngineTimer
from bench.sizes import Sizes
from bench.stats import counts_difference
from bench.workloads import Measurement, WorkloadError
from durable_azure.client import DurableOrchestrationClient
from durable_azure.functions.indexing import IndexBuilder, InvocationServices, ProgrammingModel, TriggeredFunction
from durable_azure.functions.triggers.queue import QueueListener
from durable_azure.functions.urls import ManagementUrls
from durable_azure.history import OrchestrationStatus
from durable_azure.queue_settings import QueueSettings

FILL_IN_FLIGHT = 32


async def start_from_message(msg: func.QueueMessage, client: DurableOrchestrationClient) -> None:
    """The queue-triggered function: one hello sequence per message, the body as its instance id."""
    await client.start_new("hello_sequence", msg.get_body().decode())


def _function(queue: str) -> TriggeredFunction:
    """The function as indexing makes it from `@app.queue_trigger` + `@app.durable_client_input`."""
    builder = IndexBuilder(apps.registry())
    bindings = [
        {
            "name": "msg",
            "type": "queueTrigger",
            "direction": "in",
            "queueName": queue,
            "connection": "AzureWebJobsStorage",
        },
        {"name": "client", "type": "durableClient", "direction": "in"},
    ]
    builder.add("start_from_message", start_from_message, bindings, ProgrammingModel.V2, Path.cwd())
    [function] = builder.build().triggered
    return function


def _services(run: RunningHub) -> InvocationServices:
    async def no_other_hubs(task_hub: str | None, connection_name: str | None) -> Any:
        raise AssertionError("W6's function uses the app's own task hub")

    return InvocationServices(
        client=run.client,
        client_for=no_other_hubs,
        management=ManagementUrls(base_url="http://127.0.0.1:7071", task_hub=run.hub.hub_name),
        account_for=lambda connection_name: run.account,
        host_id="bench",
    )


async def _fill(run: RunningHub, queue: str, instance_ids: list[str]) -> None:
    await run.account.queues.create_queue(queue)
    slots = asyncio.Semaphore(FILL_IN_FLIGHT)

    async def send(instance_id: str) -> None:
        async with slots:
            text = base64.b64encode(instance_id.encode()).decode()
            await run.account.queues.send(queue, text, visibility_timeout=0)

    await asyncio.gather(*(send(instance_id) for instance_id in instance_ids))


async def w6_queue_trigger(connection_string: str, timer: EngineTimer, sizes: Sizes) -> Measurement:
    """W6: `w6_messages` queued messages, each starting a hello sequence from the queue trigger."""
    return await _queue_started(connection_string, timer, sizes, sizes.w6_messages)


async def w6_at_w1_scale(connection_string: str, timer: EngineTimer, sizes: Sizes) -> Measurement:
    """W6s: W6 with as many messages as W1a starts orchestrations (`w1_instances`).

    W6's 2,000 standing messages make every Azurite queue request slower (it scans the stored messages), while
    W1a keeps only its 200 starts in flight: this run compares the two at the same scale, so what it shows is
    the queue trigger's own cost, not the emulator's depth penalty.
    """
    return await _queue_started(connection_string, timer, sizes, sizes.w1_instances)


async def _queue_started(connection_string: str, timer: EngineTimer, sizes: Sizes, count: int) -> Measurement:
    queue = f"bench-w6-{uuid.uuid4().hex[:12]}"
    instance_ids = [f"w6-{index}" for index in range(count)]
    async with running_hub(connection_string, timer) as run:
        try:
            await _fill(run, queue, instance_ids)
            listener = QueueListener(_function(queue), _services(run), settings=QueueSettings())
            timer.reset()
            before = run.account.counter.snapshot()
            start = time.perf_counter()
            await listener.start()
            try:
                await run.watcher.wait_terminal(instance_ids, sizes.run_timeout_seconds)
                elapsed = time.perf_counter() - start
            finally:
                await listener.stop()
            failed = [i for i in instance_ids if run.watcher.status(i) != OrchestrationStatus.Completed]
            if failed:
                raise WorkloadError(f"{len(failed)} instance(s) did not complete, e.g. {failed[0]}")
            await timer.wait_idle()
            requests = counts_difference(run.account.counter.snapshot(), before)
        finally:
            await run.account.queues.delete_queue(queue)
    return Measurement(
        values={"messages_per_second": count / elapsed, "engine_cpu_seconds": timer.engine_cpu_seconds},
        requests=requests,
        units=count,
        unit="message",
    )


__all__ = ["w6_at_w1_scale", "w6_queue_trigger"]
