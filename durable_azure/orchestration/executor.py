"""`OrchestrationExecutor`: (history, new events) -> actions and status. The replay engine's one entry point.

The first `execute` replays history with `is_replaying` true, then applies the
episode's new events with it false (DTFx `TaskOrchestrationExecutor`). The
executor keeps the orchestrator's generator alive afterwards, so a worker that
caches it applies only new events next time and never replays again.

It never raises for user errors or non-determinism (temporal's "activate never
raises"): those end the execution as Failed in the result. It raises only when
the caller breaks the contract (history that is not what it has seen, no
ExecutionStarted, an event kind it does not know).

Pure: no I/O, clock, randomness or asyncio. Time comes only from
OrchestratorStarted events.
"""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Callable, Generator, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from durable_azure import serialization
from durable_azure.errors import NonDeterminismError, OrchestrationError, OrchestratorNotFoundError, TaskFailedError
from durable_azure.history import (
    ContinueAsNew,
    EventRaised,
    EventSent,
    ExecutionCompleted,
    ExecutionResumed,
    ExecutionRewound,
    ExecutionStarted,
    ExecutionSuspended,
    ExecutionTerminated,
    GenericEvent,
    HistoryEvent,
    HistoryState,
    OrchestrationStatus,
    OrchestratorCompleted,
    OrchestratorStarted,
    SubOrchestrationInstanceCompleted,
    SubOrchestrationInstanceCreated,
    SubOrchestrationInstanceFailed,
    TaskCompleted,
    TaskFailed,
    TaskScheduled,
    TimerCreated,
    TimerFired,
)
from durable_azure.orchestration.actions import (
    SCHEDULING_EVENT_TYPES,
    Action,
    history_event,
)
from durable_azure.orchestration.context import DurableOrchestrationContext
from durable_azure.orchestration.entity_calls import release_all
from durable_azure.orchestration.http import HttpSettings
from durable_azure.orchestration.outcome import (
    ExecutionResult,
    Outcome,
    completion_action,
    completion_event,
    failed_outcome,
)
from durable_azure.orchestration.runtime import ExecutionRuntime
from durable_azure.orchestration.state import OrchestrationState
from durable_azure.orchestration.tasks import Task

_MARKERS = frozenset({OrchestratorStarted, OrchestratorCompleted, GenericEvent, HistoryState, ExecutionRewound})
# Events still applied after the orchestrator finished but before its end is in history: the
# scheduling events of that last episode must match, its end marker records it, late events carry over.
_AFTER_FINISH = frozenset({*SCHEDULING_EVENT_TYPES, *_MARKERS, ExecutionCompleted, ContinueAsNew, EventRaised})
# Events applied while suspended; everything else waits for ExecutionResumed, in order.
APPLIED_WHILE_SUSPENDED: frozenset[type[HistoryEvent]] = frozenset(
    {*SCHEDULING_EVENT_TYPES, *_MARKERS, ExecutionCompleted, ContinueAsNew, ExecutionTerminated}
    | {ExecutionSuspended, ExecutionResumed}
)
# Events meaningful before ExecutionStarted (an event may be raised before the start message is read).
_BEFORE_START = frozenset({*_MARKERS, ExecutionStarted, EventRaised})


class OrchestrationExecutor:
    """Replays an instance and keeps its generator alive between episodes (so a cached instance never replays again)."""

    def __init__(
        self, orchestrators: Mapping[str, Callable[..., Any]], *, http_settings: HttpSettings | None = None
    ) -> None:
        # Shared, not copied: a cached instance keeps its executor, and a copy per instance grows with the app.
        self._orchestrators = orchestrators
        self._http_settings = http_settings
        self._state = OrchestrationState()
        self._has_executed = False
        self._clock = datetime(1, 1, 1, tzinfo=UTC)
        self._is_replaying = False
        self._runtime: ExecutionRuntime | None = None
        self._context: DurableOrchestrationContext | None = None
        self._generator: Generator[Any, Any, Any] | None = None
        self._waiting_on: Task[Any] | None = None
        self._outcome: Outcome | None = None
        self._is_suspended = False
        self._deferred: list[HistoryEvent] = []
        self._early_events: list[EventRaised] = []

    def execute(self, history: Sequence[HistoryEvent], new_events: Sequence[HistoryEvent]) -> ExecutionResult:
        """First call: replay `history` (is_replaying True) then apply `new_events` (is_replaying False).
        Later calls on the same executor: `history` must be the events this executor has already seen (the worker
        passes them; the executor may check only the length) and only `new_events` are applied — the generator is
        NOT restarted. new_events[0] is normally an OrchestratorStarted supplied by the worker (its timestamp is the
        new current_utc_datetime); if it is missing the executor inserts none — the worker always supplies it.

        Events for an execution whose end is already in history are ignored and
        nothing is appended. Duplicate completions are ignored here, but the
        worker should drop them first (`OrchestrationState.is_duplicate`).
        """
        self._catch_up(history)
        if self._outcome is not None and self._outcome.is_recorded:
            return self._result(actions=(), new_history=())
        self._set_replaying(False)
        for event in new_events:
            self._apply(event)
        if self._runtime is None:
            raise OrchestrationError("cannot execute an orchestration whose events contain no ExecutionStarted")
        return self._close_episode(tuple(new_events))

    def _catch_up(self, history: Sequence[HistoryEvent]) -> None:
        if self._has_executed:
            if len(history) != len(self._state):
                raise OrchestrationError(
                    f"history has {len(history)} events but this executor has seen {len(self._state)}; "
                    "use a fresh executor to replay a different history"
                )
            return
        self._has_executed = True
        self._set_replaying(True)
        for event in history:
            self._apply(event)

    def _set_replaying(self, is_replaying: bool) -> None:
        self._is_replaying = is_replaying
        if self._runtime is not None:
            self._runtime.replaying = is_replaying

    # -- dispatch --

    def _apply(self, event: HistoryEvent) -> None:
        if type(event) not in _HANDLERS:
            raise OrchestrationError(f"unknown history event kind {type(event).__name__}")
        self._state.append(event)
        self._process(event)

    def _process(self, event: HistoryEvent) -> None:
        event_type = type(event)
        if self._outcome is not None:
            if not self._outcome.is_recorded and event_type in _AFTER_FINISH:
                self._run_handler(event)
            return
        if self._runtime is None and event_type not in _BEFORE_START:
            return
        if self._is_suspended and event_type not in APPLIED_WHILE_SUSPENDED:
            self._deferred.append(event)
            return
        self._run_handler(event)
        self._resume_if_ready()

    def _run_handler(self, event: HistoryEvent) -> None:
        try:
            _HANDLERS[type(event)](self, event)
        except NonDeterminismError as error:
            self._fail(error)

    # -- per-kind handlers --

    def _apply_execution_started(self, event: ExecutionStarted) -> None:
        if self._runtime is not None:
            return
        self._runtime = ExecutionRuntime(
            started=event, state=self._state, clock=self._clock, http_settings=self._http_settings
        )
        self._runtime.replaying = self._is_replaying
        for early_event in self._early_events:
            self._runtime.raise_event(early_event)
        self._early_events.clear()
        orchestrator = self._orchestrators.get(event.name)
        if orchestrator is None:
            known = ", ".join(sorted(self._orchestrators)) or "none"
            message = f"No orchestrator named '{event.name}' is registered (known: {known})"
            self._fail(OrchestratorNotFoundError(message))
            return
        self._context = DurableOrchestrationContext(self._runtime)
        self._start(orchestrator, self._context)

    def _apply_execution_completed(self, event: ExecutionCompleted | ContinueAsNew) -> None:
        # History is the truth for a finished execution, whatever the code would do now.
        self._outcome = Outcome(
            status=event.orchestration_status,
            output=event.result,
            failure_details=event.failure_details,
            is_recorded=True,
        )
        self._stop_generator()

    def _apply_execution_terminated(self, event: ExecutionTerminated) -> None:
        self._outcome = Outcome(status=OrchestrationStatus.Terminated, output=event.input)
        self._require_runtime().drop_new_actions()
        self._stop_generator()

    def _apply_execution_suspended(self, event: ExecutionSuspended) -> None:
        self._is_suspended = True

    def _apply_execution_resumed(self, event: ExecutionResumed) -> None:
        if not self._is_suspended:
            return
        self._is_suspended = False
        deferred, self._deferred = self._deferred, []
        for deferred_event in deferred:
            self._process(deferred_event)

    def _apply_orchestrator_started(self, event: OrchestratorStarted) -> None:
        timestamp = event.timestamp
        self._clock = timestamp if timestamp.tzinfo else timestamp.replace(tzinfo=UTC)
        if self._runtime is not None:
            self._runtime.clock = self._clock

    def _apply_scheduling_event(self, event: HistoryEvent) -> None:
        self._require_runtime().match_scheduling_event(event)

    def _apply_task_completed(self, event: TaskCompleted | SubOrchestrationInstanceCompleted) -> None:
        self._require_runtime().complete_task(event.task_scheduled_id, event.result)

    def _apply_task_failed(self, event: TaskFailed | SubOrchestrationInstanceFailed) -> None:
        details = event.failure_details
        reason = event.reason if event.reason is not None else (details.error_message if details else "")
        error = TaskFailedError(reason, event.details, error_type=details.error_type if details else None)
        self._require_runtime().fail_task(event.task_scheduled_id, error)

    def _apply_timer_fired(self, event: TimerFired) -> None:
        self._require_runtime().complete_task(event.timer_id, None)

    def _apply_event_raised(self, event: EventRaised) -> None:
        outcome = self._outcome
        if outcome is not None:
            if outcome.status is OrchestrationStatus.ContinuedAsNew:
                events = (*outcome.carryover_events, event)
                self._outcome = replace(outcome, carryover_events=events)
        elif self._runtime is None:
            self._early_events.append(event)
        else:
            self._runtime.raise_event(event)

    def _apply_marker(self, event: HistoryEvent) -> None:
        """OrchestratorCompleted and bookkeeping events change nothing in a replay."""

    def _require_runtime(self) -> ExecutionRuntime:
        if self._runtime is None:
            raise OrchestrationError("event applied before ExecutionStarted")
        return self._runtime

    # -- driving the generator --

    def _start(self, orchestrator: Callable[..., Any], context: DurableOrchestrationContext) -> None:
        try:
            produced = orchestrator(context)
        except Exception as error:
            self._fail(error)
            return
        if inspect.isgenerator(produced):
            self._generator = produced
            self._step(produced.__next__)
        elif inspect.iscoroutine(produced):
            produced.close()
            self._fail(TypeError("async orchestrators are not supported: write a generator function that yields tasks"))
        else:
            self._return(produced)

    def _step(self, advance: Callable[[], Any]) -> None:
        """Run the generator until it waits on an unfinished task, returns or raises."""
        while True:
            try:
                yielded = advance()
            except StopIteration as stop:
                self._return(stop.value)
                return
            except Exception as error:
                self._fail(error)
                return
            if self._require_runtime().will_continue_as_new:
                self._finish_continue_as_new()  # anything yielded after continue_as_new would never run
                return
            if not isinstance(yielded, Task):
                message = f"orchestrator yielded {type(yielded).__name__}: yield tasks from context methods"
                self._fail(TypeError(message))
                return
            if not yielded.is_completed:
                self._waiting_on = yielded
                return
            advance = self._resumer(yielded)

    def _resumer(self, task: Task[Any]) -> Callable[[], Any]:
        generator = self._generator
        assert generator is not None
        if task.is_faulted:
            exception = task.exception
            assert exception is not None  # a faulted task holds its exception
            return lambda: generator.throw(exception)
        return lambda: generator.send(task.result)

    def _resume_if_ready(self) -> None:
        task = self._waiting_on
        if task is not None and task.is_completed and self._outcome is None:
            self._waiting_on = None
            self._step(self._resumer(task))

    def _stop_generator(self) -> None:
        generator, self._generator, self._waiting_on = self._generator, None, None
        if generator is not None:
            with contextlib.suppress(Exception):  # user cleanup failing while we discard the run changes nothing
                generator.close()

    # -- ending the execution --

    def _return(self, value: Any) -> None:
        if self._require_runtime().will_continue_as_new:
            self._finish_continue_as_new()
            return
        try:
            output = serialization.dumps(value)
        except TypeError as error:
            self._fail(TypeError(f"orchestrator output is not JSON-serializable: {error}"))
            return
        self._outcome = Outcome(status=OrchestrationStatus.Completed, output=output)

    def _finish_continue_as_new(self) -> None:
        runtime = self._require_runtime()
        self._outcome = Outcome(
            status=OrchestrationStatus.ContinuedAsNew,
            output=runtime.continue_as_new_input,
            carryover_events=runtime.unconsumed_events(),
        )
        self._stop_generator()

    def _fail(self, error: Exception) -> None:
        """Fail the execution with `error` (the first failure wins; a recorded end is never changed)."""
        outcome = self._outcome
        if outcome is not None and (outcome.is_recorded or outcome.status is OrchestrationStatus.Failed):
            return
        self._outcome = failed_outcome(error, self._state.name or "")
        self._stop_generator()
        if isinstance(error, NonDeterminismError) and self._runtime is not None:
            self._runtime.drop_new_actions()  # history and code disagree: starting more work would compound it

    def _close_episode(self, new_events: tuple[HistoryEvent, ...]) -> ExecutionResult:
        runtime = self._require_runtime()
        if self._outcome is not None and not self._outcome.is_recorded and self._context is not None:
            release_all(self._context)  # entity locks still held when the orchestration ends are released
        scheduled = runtime.take_new_actions()
        recorded: list[HistoryEvent] = [history_event(action, self._clock) for action in scheduled]
        recorded.append(OrchestratorCompleted(timestamp=self._clock))
        actions: tuple[Action, ...] = scheduled
        outcome = self._outcome
        if outcome is not None and not outcome.is_recorded:
            recorded.append(completion_event(outcome, self._clock))
            actions = (*actions, completion_action(outcome))
            self._outcome = replace(outcome, is_recorded=True)
        for event in recorded:
            self._state.append(event)
        return self._result(actions=actions, new_history=(*new_events, *recorded))

    def _result(self, *, actions: tuple[Action, ...], new_history: tuple[HistoryEvent, ...]) -> ExecutionResult:
        outcome = self._outcome
        if outcome is not None:
            status = outcome.status
        else:
            status = OrchestrationStatus.Suspended if self._is_suspended else OrchestrationStatus.Running
        return ExecutionResult(
            actions=actions,
            new_history=new_history,
            status=status,
            output=outcome.output if outcome else None,
            failure_details=outcome.failure_details if outcome else None,
            custom_status=self._runtime.custom_status_text if self._runtime else None,
            is_done=outcome is not None,
        )


# One table for all executors, not bound methods per instance: a cached instance keeps its executor,
# and 21 bound methods in a dict of its own cost about 2 KB per instance, more than its history usually does.
_HANDLERS: dict[type[HistoryEvent], Callable[[OrchestrationExecutor, Any], None]] = {
    ExecutionStarted: OrchestrationExecutor._apply_execution_started,
    ExecutionCompleted: OrchestrationExecutor._apply_execution_completed,
    ContinueAsNew: OrchestrationExecutor._apply_execution_completed,
    ExecutionTerminated: OrchestrationExecutor._apply_execution_terminated,
    ExecutionSuspended: OrchestrationExecutor._apply_execution_suspended,
    ExecutionResumed: OrchestrationExecutor._apply_execution_resumed,
    OrchestratorStarted: OrchestrationExecutor._apply_orchestrator_started,
    TaskScheduled: OrchestrationExecutor._apply_scheduling_event,
    TimerCreated: OrchestrationExecutor._apply_scheduling_event,
    SubOrchestrationInstanceCreated: OrchestrationExecutor._apply_scheduling_event,
    EventSent: OrchestrationExecutor._apply_scheduling_event,
    TaskCompleted: OrchestrationExecutor._apply_task_completed,
    SubOrchestrationInstanceCompleted: OrchestrationExecutor._apply_task_completed,
    TaskFailed: OrchestrationExecutor._apply_task_failed,
    SubOrchestrationInstanceFailed: OrchestrationExecutor._apply_task_failed,
    TimerFired: OrchestrationExecutor._apply_timer_fired,
    EventRaised: OrchestrationExecutor._apply_event_raised,
    OrchestratorCompleted: OrchestrationExecutor._apply_marker,
    GenericEvent: OrchestrationExecutor._apply_marker,
    HistoryState: OrchestrationExecutor._apply_marker,
    ExecutionRewound: OrchestrationExecutor._apply_marker,
}
