"""Measurement hooks, installed in the bench process only: they observe the runtime, never change what it does.

* `CompletionWatcher` wraps one task hub's `instances.update` (the write that
  makes a status visible to clients), so a workload learns the moment an
  instance is Running or finished without polling storage; polling would add
  requests to the counts and its backoff would add latency to the timings.
* `EngineTimer` wraps `OrchestrationExecutor.execute` (the replay engine) and
  `EpisodeRunner.run` (one whole episode, storage included) at class level, to
  record per-call CPU and wall time, and to let a workload wait until no
  episode is in flight before it reads the request counter.
* `ReferenceInstance` is a small orchestration kept at a fixed history length
  outside any worker. In W4's warmed pass the timer steps it, untimed, just
  before each timed engine call, so every timed call starts with the engine's
  code equally warm in the CPU caches, however long the worker sat waiting for
  storage beforehand; and steps it again, timed, just after, which shows how
  fast the machine was at that moment.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bench import apps
from durable_azure import serialization
from durable_azure.azure_storage import TaskHub
from durable_azure.entities import EntityId, stored_entity_state
from durable_azure.history import (
    ExecutionStarted,
    HistoryEvent,
    OrchestrationInstance,
    OrchestrationStatus,
    OrchestratorStarted,
    TaskCompleted,
    TaskScheduled,
)
from durable_azure.orchestration import OrchestrationExecutor
from durable_azure.protocol import ProtocolOrchestrationExecutor
from durable_azure.worker.episode import EpisodeRunner


class BenchTimeoutError(RuntimeError):
    """A workload did not finish in the time the harness allows it: the run is reported as failed."""


class CompletionWatcher:
    """Learns instance status changes from the worker's own Instances-table writes.

    A wait registers the instances it still misses; each write checks only the
    waits that miss that instance, so waiting for 10,000 instances (W8) costs
    one set lookup per write instead of a rescan of all of them.
    """

    def __init__(self, hub: TaskHub) -> None:
        self._statuses: dict[str, OrchestrationStatus] = {}
        self._waits: list[_Wait] = []
        original = hub.instances.update

        async def update(instance_id: str, **columns: Any) -> None:
            await original(instance_id, **columns)
            status = columns.get("runtime_status")
            if status is not None:
                self._statuses[instance_id] = status
                for wait in self._waits:
                    wait.observe(instance_id, status)

        hub.instances.update = update  # an instance attribute: this hub only

    def status(self, instance_id: str) -> OrchestrationStatus | None:
        return self._statuses.get(instance_id)

    async def wait_terminal(self, instance_ids: Iterable[str], timeout: float) -> None:
        """Until every instance has a terminal status; raises BenchTimeoutError after `timeout` seconds."""
        await self._wait(instance_ids, lambda status: status.is_terminal, timeout)

    async def wait_running(self, instance_ids: Iterable[str], timeout: float) -> None:
        """Until each instance's first episode committed (it is Running and waiting for something)."""
        await self._wait(instance_ids, lambda status: status == OrchestrationStatus.Running, timeout)

    async def _wait(
        self, instance_ids: Iterable[str], accept: Callable[[OrchestrationStatus], bool], timeout: float
    ) -> None:
        missing = {i for i in instance_ids if (s := self._statuses.get(i)) is None or not accept(s)}
        if not missing:
            return
        wait = _Wait(missing=missing, accept=accept)
        self._waits.append(wait)
        try:
            async with asyncio.timeout(timeout):
                await wait.done.wait()
        except TimeoutError:
            example = next(iter(wait.missing))
            message = f"{len(wait.missing)} instance(s) not done after {timeout:g} s, e.g. {example}"
            raise BenchTimeoutError(message) from None
        finally:
            self._waits.remove(wait)


class EntityStateWatcher:
    """Learns entity states from the worker's own Instances-table writes, as `CompletionWatcher` learns statuses.

    Every entity batch rewrites its Instances row with the new scheduler state
    as `Input`; reading that write costs no request, where polling
    `read_entity_state` would add one per poll to the counts.
    """

    def __init__(self, hub: TaskHub) -> None:
        self._states: dict[str, Any] = {}
        self._changed = asyncio.Event()
        original = hub.instances.update

        async def update(instance_id: str, **columns: Any) -> None:
            await original(instance_id, **columns)
            if instance_id.startswith("@") and "input" in columns:
                exists, state = stored_entity_state(columns["input"])
                self._states[instance_id] = serialization.loads(state) if exists and state is not None else None
                self._changed.set()

        hub.instances.update = update  # an instance attribute: this hub only

    def state(self, entity: EntityId) -> Any:
        return self._states.get(EntityId.get_scheduler_id(entity))

    async def wait_states(self, expected: dict[EntityId, Any], timeout: float) -> None:
        """Until every entity's stored state equals its expected value; BenchTimeoutError after `timeout` s."""
        missing = list(expected)
        try:
            async with asyncio.timeout(timeout):
                while missing := [entity for entity, value in expected.items() if self.state(entity) != value]:
                    self._changed.clear()  # no await since `missing` was computed: no write slips between
                    await self._changed.wait()
        except TimeoutError:
            example = missing[0]
            message = f"{len(missing)} entit(y/ies) not at their state after {timeout:g} s, e.g. {example}: "
            raise BenchTimeoutError(message + repr(self.state(example))) from None


@dataclass(slots=True, kw_only=True)
class _Wait:
    """One caller of `CompletionWatcher._wait`: the instances it still misses."""

    missing: set[str]
    accept: Callable[[OrchestrationStatus], bool]
    done: asyncio.Event = field(default_factory=asyncio.Event)

    def observe(self, instance_id: str, status: OrchestrationStatus) -> None:
        if instance_id in self.missing and self.accept(status):
            self.missing.discard(instance_id)
            if not self.missing:
                self.done.set()


@dataclass(slots=True)
class EngineCall:
    """One `OrchestrationExecutor.execute` call: the replay engine's share of one episode."""

    cpu_seconds: float
    wall_seconds: float
    history_length: int
    # With a reference instance: CPU of one reference step taken right after this call, in the same cache state.
    reference_cpu_seconds: float | None = None


Execute = Callable[[OrchestrationExecutor, Any, Any], Any]
ENGINE_EXECUTE: Execute = OrchestrationExecutor.execute  # captured at import, before any timer wraps it


class ReferenceInstance:
    """A `long_sequence` instance whose history never grows past REFERENCE_EVENTS: it restarts before that.

    Stepping it runs the same engine code a W4 episode runs (deliver a
    TaskCompleted, resume the generator, schedule the next activity), so the
    caches hold that code when the timed call starts. Its own cost never
    depends on the W4 instance's history.
    """

    REFERENCE_EVENTS = 60

    def __init__(self) -> None:
        self._now = datetime.now(UTC)
        self._orchestrators = apps.registry().orchestrators
        self._executor: OrchestrationExecutor | None = None
        self._history: list[HistoryEvent] = []
        self._next_task: int | None = None

    def step(self) -> None:
        """One episode of the reference instance, through the engine without any timer around it."""
        if self._executor is None or self._next_task is None or len(self._history) > self.REFERENCE_EVENTS:
            self._restart()
        assert self._executor is not None and self._next_task is not None
        completed = TaskCompleted(timestamp=self._now, task_scheduled_id=self._next_task, result="0")
        new_events = [OrchestratorStarted(timestamp=self._now), completed]
        self._record(ENGINE_EXECUTE(self._executor, self._history, new_events))

    def step_cpu_seconds(self, *, idle_seconds: float = 0.0) -> float:
        """CPU time of one step taken after this thread slept `idle_seconds` (0: right after the previous step)."""
        if idle_seconds:
            time.sleep(idle_seconds)
        start = time.thread_time()
        self.step()
        return time.thread_time() - start

    def _restart(self) -> None:
        self._executor, self._history = OrchestrationExecutor(self._orchestrators), []
        instance = OrchestrationInstance(instance_id="bench-reference", execution_id="reference")
        start = ExecutionStarted(
            timestamp=self._now, orchestration_instance=instance, name="long_sequence", input="1000000"
        )
        self._record(ENGINE_EXECUTE(self._executor, [], [OrchestratorStarted(timestamp=self._now), start]))

    def _record(self, result: Any) -> None:
        self._history.extend(result.new_history)
        scheduled = [event.event_id for event in result.new_history if isinstance(event, TaskScheduled)]
        self._next_task = scheduled[0] if scheduled else None


@dataclass(slots=True)
class EngineTimer:
    """Per-call engine CPU and per-episode wall time, and an in-flight episode count.

    With `reference` set, each timed engine call is preceded by an untimed
    step of that reference instance and followed by a timed one (see `ReferenceInstance`).
    """

    engine_calls: list[EngineCall] = field(default_factory=list)
    episode_seconds: list[float] = field(default_factory=list)
    in_flight: int = 0
    reference: ReferenceInstance | None = None

    def reset(self) -> None:
        self.engine_calls.clear()
        self.episode_seconds.clear()

    @property
    def engine_cpu_seconds(self) -> float:
        return sum(call.cpu_seconds for call in self.engine_calls)

    async def wait_idle(self, timeout: float = 10.0) -> None:
        """Until no episode is running, so its trailing message deletes are counted with the workload."""
        deadline = time.monotonic() + timeout
        while self.in_flight and time.monotonic() < deadline:
            await asyncio.sleep(0.005)
        await asyncio.sleep(0.005)  # let deletes gathered by a just-finished episode's caller settle

    @contextlib.contextmanager
    def installed(self) -> Iterator[EngineTimer]:
        """Wrap the engines' `execute` and the episode runner for the duration of the block; restore them afterwards.

        The protocol executor (an unmodified app's orchestrators) counts as one engine call with the SDK's
        replay in it; the native executor it drives inside is not counted again.
        """
        original_execute = OrchestrationExecutor.execute
        original_protocol_execute = ProtocolOrchestrationExecutor.execute
        original_run = EpisodeRunner.run
        timer = self
        depth = [0]

        def timed(original: Callable[[Any, Any, Any], Any]) -> Callable[[Any, Any, Any], Any]:
            def execute(executor: Any, history: Any, new_events: Any) -> Any:
                if depth[0]:
                    return original(executor, history, new_events)
                if timer.reference is not None:
                    timer.reference.step()
                depth[0] += 1
                cpu_start, wall_start = time.thread_time(), time.perf_counter()
                try:
                    return original(executor, history, new_events)
                finally:
                    depth[0] -= 1
                    call = EngineCall(
                        cpu_seconds=time.thread_time() - cpu_start,
                        wall_seconds=time.perf_counter() - wall_start,
                        history_length=len(history) + len(new_events),
                    )
                    if timer.reference is not None:
                        call.reference_cpu_seconds = timer.reference.step_cpu_seconds()
                    timer.engine_calls.append(call)

            return execute

        async def run(runner: EpisodeRunner, instance_id: str, messages: Any) -> None:
            timer.in_flight += 1
            start = time.perf_counter()
            try:
                await original_run(runner, instance_id, messages)
            finally:
                timer.in_flight -= 1
                timer.episode_seconds.append(time.perf_counter() - start)

        OrchestrationExecutor.execute = timed(original_execute)  # type: ignore[method-assign]
        ProtocolOrchestrationExecutor.execute = timed(original_protocol_execute)  # type: ignore[method-assign]
        EpisodeRunner.run = run  # type: ignore[method-assign]
        try:
            yield self
        finally:
            OrchestrationExecutor.execute = original_execute  # type: ignore[method-assign]
            ProtocolOrchestrationExecutor.execute = original_protocol_execute  # type: ignore[method-assign]
            EpisodeRunner.run = original_run  # type: ignore[method-assign]
