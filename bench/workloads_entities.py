"""W7: signals to counter entities, applied in batches (issue 13).

* W7a: `w7_signals` `add 1` signals to one counter entity; operations applied
  per second until its state reads `w7_signals`.
* W7b: `w7_entities` counters x `w7_signals_per_entity` signals each; operations
  per second until every one reads `w7_signals_per_entity`.

The signals are sent by the client (one process: one sender of each entity's
message sorter, so its sends to one entity go one at a time) while no worker
runs, as W3b raises its events first: the figure is how fast the worker
applies operations, not how fast one client can send them (that rate is
reported beside it, `signals_sent_per_second`). Then the worker starts and the
clock runs until the entities' Instances rows show the final counts (learnt
from the worker's own writes, `EntityStateWatcher`, so no polling request is
counted). Requests counted: the worker's, from its start until its last
episode ended, as W3b counts them; each signal's one send is reported apart
(`send_requests_per_operation`, and `requests_per_operation_with_send`). A
signal through a queue costs at least that send and the worker's delete of
it (queues delete one message per request), so 2 with the send is the floor.

The control queue holds all the signals when the worker starts and drains to
none, so the Azurite bound is also measured at half that depth.
"""

from __future__ import annotations

import asyncio
import time

from bench.harness import RunningHub, running_hub
from bench.instruments import EngineTimer
from bench.sizes import Sizes
from bench.stats import counts_difference
from bench.workloads import Measurement
from durable_azure.entities import EntityId

SEND_IN_FLIGHT = 16
"""Signals in flight at once while queueing W7b's (to different entities; to one entity they go one at a time)."""


async def w7_one_entity(connection_string: str, timer: EngineTimer, sizes: Sizes) -> Measurement:
    """W7a: `w7_signals` signals to one counter."""
    return await _signals_applied(connection_string, timer, sizes, entities=1, per_entity=sizes.w7_signals)


async def w7_many_entities(connection_string: str, timer: EngineTimer, sizes: Sizes) -> Measurement:
    """W7b: `w7_entities` counters, `w7_signals_per_entity` signals each."""
    return await _signals_applied(
        connection_string, timer, sizes, entities=sizes.w7_entities, per_entity=sizes.w7_signals_per_entity
    )


async def _signals_applied(
    connection_string: str, timer: EngineTimer, sizes: Sizes, *, entities: int, per_entity: int
) -> Measurement:
    targets = [EntityId("counter", f"w7-{index}") for index in range(entities)]
    operations = entities * per_entity
    async with running_hub(connection_string, timer, start_worker=False) as run:
        before_sends = run.account.counter.snapshot()
        sending = time.perf_counter()
        await _send_all(run, targets, per_entity)
        send_seconds = time.perf_counter() - sending
        sends = counts_difference(run.account.counter.snapshot(), before_sends)
        timer.reset()
        before = run.account.counter.snapshot()
        start = time.perf_counter()
        await run.worker.start()
        await run.entities.wait_states(dict.fromkeys(targets, per_entity), sizes.run_timeout_seconds)
        elapsed = time.perf_counter() - start
        await timer.wait_idle()
        episodes = len(timer.episode_seconds)  # EpisodeRunner.run calls: batches of messages for one instance
        requests = counts_difference(run.account.counter.snapshot(), before)
    worker_requests = sum(requests.values())
    send_requests = sum(sends.values())
    return Measurement(
        values={
            "operations_per_second": operations / elapsed,
            "episodes": float(episodes),
            "operations_per_episode": operations / max(episodes, 1),
            "send_requests_per_operation": send_requests / operations,
            "requests_per_operation_with_send": (worker_requests + send_requests) / operations,
            "signals_sent_per_second": operations / send_seconds,
        },
        requests=requests,
        units=operations,
        unit="operation",
    )


async def _send_all(run: RunningHub, targets: list[EntityId], per_entity: int) -> None:
    """Every signal, before the worker starts: one entity's one after another, different entities' side by side."""
    slots = asyncio.Semaphore(SEND_IN_FLIGHT)

    async def send_to(entity: EntityId) -> None:
        for _ in range(per_entity):
            async with slots:
                await run.client.signal_entity(entity, "add", 1)

    await asyncio.gather(*(send_to(entity) for entity in targets))


__all__ = ["w7_many_entities", "w7_one_entity"]
