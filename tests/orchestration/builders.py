"""Factory functions that build histories, and a driver that plays the worker's part from them.

Tests describe an instance's life as lists of history events; nothing here
touches storage. `run_to_end` stands in for the worker: it feeds each
episode's new events to an executor, appends `new_history` and answers the
actions (activity results, fired timers) with more events.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from durable_azure import serialization
from durable_azure.history import (
    EventRaised,
    ExecutionResumed,
    ExecutionStarted,
    ExecutionSuspended,
    ExecutionTerminated,
    FailureDetails,
    HistoryEvent,
    OrchestrationInstance,
    OrchestratorCompleted,
    OrchestratorStarted,
    ParentInstance,
    SubOrchestrationInstanceCompleted,
    SubOrchestrationInstanceCreated,
    SubOrchestrationInstanceFailed,
    TaskCompleted,
    TaskFailed,
    TaskScheduled,
    TimerCreated,
    TimerFired,
)
from durable_azure.orchestration import (
    Action,
    CreateSubOrchestrationAction,
    CreateTimerAction,
    ExecutionResult,
    OrchestrationExecutor,
    ScheduleTaskAction,
)
from durable_azure.orchestration.actions import activity_input, activity_input_text

START = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
INSTANCE_ID = "instance-1"


def at(seconds: float) -> datetime:
    return START + timedelta(seconds=seconds)


def orchestrator_started(seconds: float = 0) -> OrchestratorStarted:
    return OrchestratorStarted(timestamp=at(seconds))


def orchestrator_completed(seconds: float = 0) -> OrchestratorCompleted:
    return OrchestratorCompleted(timestamp=at(seconds))


def execution_started(
    name: str, input_: Any = None, *, instance_id: str = INSTANCE_ID, parent_id: str | None = None, seconds: float = 0
) -> ExecutionStarted:
    parent = None
    if parent_id is not None:
        parent = ParentInstance(
            name="parent", orchestration_instance=OrchestrationInstance(instance_id=parent_id), task_schedule_id=0
        )
    return ExecutionStarted(
        timestamp=at(seconds),
        name=name,
        input=None if input_ is None else serialization.dumps(input_),
        orchestration_instance=OrchestrationInstance(instance_id=instance_id, execution_id="execution-1"),
        parent_instance=parent,
    )


def start(name: str, input_: Any = None, **kwargs: Any) -> list[HistoryEvent]:
    """The first episode's new events: OrchestratorStarted + ExecutionStarted."""
    return [orchestrator_started(kwargs.get("seconds", 0)), execution_started(name, input_, **kwargs)]


def task_scheduled(task_id: int, name: str, input_: Any = None, seconds: float = 0) -> TaskScheduled:
    input_text = None if input_ is None else serialization.dumps(input_)
    return TaskScheduled(event_id=task_id, timestamp=at(seconds), name=name, input=activity_input(input_text))


def task_completed(task_id: int, result: Any, seconds: float = 0) -> TaskCompleted:
    return TaskCompleted(timestamp=at(seconds), task_scheduled_id=task_id, result=serialization.dumps(result))


def task_failed(task_id: int, message: str = "boom", seconds: float = 0) -> TaskFailed:
    return TaskFailed(
        timestamp=at(seconds),
        task_scheduled_id=task_id,
        reason=f"ValueError: {message}",
        details="Traceback: ...",
        failure_details=FailureDetails(error_type="ValueError", error_message=message),
    )


def timer_created(task_id: int, fire_at: datetime, seconds: float = 0) -> TimerCreated:
    return TimerCreated(event_id=task_id, timestamp=at(seconds), fire_at=fire_at)


def timer_fired(task_id: int, fire_at: datetime, seconds: float = 0) -> TimerFired:
    return TimerFired(timestamp=at(seconds), timer_id=task_id, fire_at=fire_at)


def sub_orchestration_created(task_id: int, name: str, instance_id: str, input_: Any = None) -> HistoryEvent:
    input_text = None if input_ is None else serialization.dumps(input_)
    return SubOrchestrationInstanceCreated(
        event_id=task_id, timestamp=START, name=name, instance_id=instance_id, input=input_text
    )


def sub_orchestration_completed(task_id: int, result: Any) -> HistoryEvent:
    return SubOrchestrationInstanceCompleted(
        timestamp=START, task_scheduled_id=task_id, result=serialization.dumps(result)
    )


def sub_orchestration_failed(task_id: int, message: str = "child failed") -> HistoryEvent:
    return SubOrchestrationInstanceFailed(timestamp=START, task_scheduled_id=task_id, reason=message, details="trace")


def event_raised(name: str, value: Any, seconds: float = 0) -> EventRaised:
    return EventRaised(timestamp=at(seconds), name=name, input=serialization.dumps(value))


def terminated(reason: str = "stop") -> ExecutionTerminated:
    return ExecutionTerminated(timestamp=START, input=serialization.dumps(reason))


def suspended() -> ExecutionSuspended:
    return ExecutionSuspended(timestamp=START, reason="pause")


def resumed() -> ExecutionResumed:
    return ExecutionResumed(timestamp=START, reason="go")


# -- playing the worker --

Activity = Callable[[Any], Any]


@dataclass(slots=True, kw_only=True)
class Run:
    """Everything a driven instance produced: one result per episode and the whole history."""

    results: list[ExecutionResult] = field(default_factory=list)
    history: list[HistoryEvent] = field(default_factory=list)

    @property
    def last(self) -> ExecutionResult:
        return self.results[-1]

    @property
    def output(self) -> Any:
        return serialization.loads(self.last.output)


def answer(action: Action, activities: Mapping[str, Activity], seconds: float) -> list[HistoryEvent]:
    """The events a worker would deliver for `action`: run the activity, fire the timer."""
    if isinstance(action, ScheduleTaskAction):
        try:
            value = activities[action.name](serialization.loads(activity_input_text(action.input)))
        except Exception as error:
            return [task_failed(action.id, str(error), seconds)]
        return [task_completed(action.id, value, seconds)]
    if isinstance(action, CreateTimerAction):
        return [timer_fired(action.id, action.fire_at, seconds)]
    if isinstance(action, CreateSubOrchestrationAction):
        return [sub_orchestration_completed(action.id, f"child {action.instance_id}")]
    return []


def run_to_end(
    orchestrators: Mapping[str, Callable[..., Any]],
    first_events: Iterable[HistoryEvent],
    activities: Mapping[str, Activity] | None = None,
    *,
    fresh_replay: bool = False,
    max_episodes: int = 50,
) -> Run:
    """Drive an instance episode by episode until it is done.

    With `fresh_replay` every episode uses a new executor that replays the whole
    history first (a worker without a cache); otherwise one executor is kept.
    Each episode answers every action of the previous one, one second later.
    """
    run = Run()
    executor = OrchestrationExecutor(orchestrators)
    new_events = list(first_events)
    for episode in range(1, max_episodes + 1):
        if fresh_replay:
            executor = OrchestrationExecutor(orchestrators)
        result = executor.execute(list(run.history), new_events)
        run.results.append(result)
        run.history.extend(result.new_history)
        if result.is_done:
            return run
        answers = [event for action in result.actions for event in answer(action, activities or {}, episode)]
        new_events = [orchestrator_started(episode), *answers]
    raise AssertionError(f"instance not done after {max_episodes} episodes")
