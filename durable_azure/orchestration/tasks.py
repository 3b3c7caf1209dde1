"""The tasks an orchestrator yields, after durabletask-python's task vocabulary.

    Task
    ├── CompletableTask           completed by the executor from a history event
    │   ├── ActivityTask          TaskCompleted / TaskFailed
    │   ├── SubOrchestrationTask  SubOrchestrationInstanceCompleted / Failed
    │   ├── TimerTask             TimerFired (or cancel())
    │   ├── ExternalEventTask     EventRaised
    │   └── RetryableTask         completed by its attempts and retry timers
    └── CompositeTask             completed by its children
        ├── WhenAllTask           context.task_all
        └── WhenAnyTask           context.task_any

A finished task notifies the tasks listening to it (`on_child_completed`), so
nothing polls: composites and retries react as their children finish, in the
order history delivers the events, which keeps replay deterministic.

Imports only the standard library, `serialization` and `retry`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from enum import Enum
from typing import Any, Generic, Protocol, TypeVar

from durable_azure import serialization
from durable_azure.orchestration.retry import RetryOptions

ResultType = TypeVar("ResultType")


class TaskState(Enum):
    """A task's state, as azure.durable_functions' `models.Task.TaskState` names and numbers it."""

    RUNNING = 0
    SUCCEEDED = 1
    FAILED = 2


class TaskListener(Protocol):
    def on_child_completed(self, child: Task[Any]) -> None: ...


class Task(Generic[ResultType]):
    """Something an orchestrator can `yield`; the yield evaluates to `result` or raises `exception`.

    `id` and `is_played` are the SDK's TaskBase attributes: the task id in history (the event name for an
    external event, -1 for a task made of others), and whether the outcome came from replayed history.
    """

    def __init__(self) -> None:
        self._id: int | str = -1
        self._is_played = False
        self._state = TaskState.RUNNING
        self._result: Any = None
        self._exception: Exception | None = None
        self._listeners: list[TaskListener] = []

    @property
    def id(self) -> int | str:
        return self._id

    @id.setter
    def id(self, value: int | str) -> None:
        self._id = value

    @property
    def is_played(self) -> bool:
        return self._is_played

    @is_played.setter
    def is_played(self, value: bool) -> None:
        self._is_played = value

    @property
    def state(self) -> TaskState:
        return self._state

    @property
    def is_completed(self) -> bool:
        return self._state is not TaskState.RUNNING

    @property
    def is_faulted(self) -> bool:
        return self._state is TaskState.FAILED

    @property
    def result(self) -> Any:
        """The value; for a failed task its exception, as azure.durable_functions' Task.result holds it."""
        return self._exception if self._state is TaskState.FAILED else self._result

    @property
    def exception(self) -> Exception | None:
        return self._exception

    def _listen(self, listener: TaskListener) -> None:
        self._listeners.append(listener)

    def _succeed(self, value: Any) -> None:
        self._finish(TaskState.SUCCEEDED, value, None)

    def _fault(self, exception: Exception) -> None:
        self._finish(TaskState.FAILED, None, exception)

    def _finish(self, state: TaskState, value: Any, exception: Exception | None) -> None:
        if self.is_completed:
            raise ValueError(f"{type(self).__name__} is already completed")
        self._state, self._result, self._exception = state, value, exception
        for listener in self._listeners:
            listener.on_child_completed(self)


class CompletableTask(Task[ResultType]):
    """A task the executor completes when history says so.

    `expected_type` is the SDK's `expected_type` argument: a result still in its custom-object envelope
    (its class's module not loaded here) is decoded with that class's `from_json`.
    """

    expected_type: type | None = None

    def complete(self, result: Any) -> None:
        if self.expected_type is not None:
            try:
                result = serialization.as_expected_type(result, self.expected_type)
            except Exception as error:  # the user's from_json: surfaced at the yield, as a decoding failure is
                self._fault(error)
                return
        self._succeed(result)

    def fail(self, exception: Exception) -> None:
        self._fault(exception)


class ActivityTask(CompletableTask[Any]):
    def __init__(self, *, id: int, name: str) -> None:
        super().__init__()
        self.id = id
        self.name = name


class SubOrchestrationTask(CompletableTask[Any]):
    def __init__(self, *, id: int, name: str, instance_id: str) -> None:
        super().__init__()
        self.id = id
        self.name = name
        self.instance_id = instance_id


class TimerTask(CompletableTask[None]):
    def __init__(self, *, id: int, fire_at: datetime) -> None:
        super().__init__()
        self.id = id
        self.fire_at = fire_at
        self._is_cancelled = False

    @property
    def is_cancelled(self) -> bool:
        return self._is_cancelled

    def cancel(self) -> None:
        """Stop waiting: the task completes now and its later TimerFired is ignored.

        The TimerCreated stays in history (DTFx cannot delete a queued timer
        message); the worker drops the fired message. ValueError if the timer
        has already completed, as in azure.durable_functions.
        """
        if self.is_completed:
            raise ValueError("cannot cancel a timer that has already completed")
        self._is_cancelled = True
        self._succeed(None)


class ExternalEventTask(CompletableTask[Any]):
    def __init__(self, *, name: str) -> None:
        super().__init__()
        self.id = name
        self.name = name


class RetryableTask(CompletableTask[Any]):
    """An activity or sub-orchestration retried on failure with durable timers between attempts.

    Each attempt and each wait is a real task with its own id, so history holds
    TaskScheduled/TaskFailed/TimerCreated/TimerFired for every retry and replay
    walks the same path. After the last attempt the last failure is raised.
    """

    def __init__(
        self,
        *,
        retry_options: RetryOptions,
        start_attempt: Callable[[], CompletableTask[Any]],
        create_timer: Callable[[datetime], TimerTask],
        clock: Callable[[], datetime],
    ) -> None:
        super().__init__()
        self._retry_options = retry_options
        self._start_attempt = start_attempt
        self._create_timer = create_timer
        self._clock = clock
        self._first_attempt_time = clock()
        self._attempt_count = 0
        self._next_attempt()

    @property
    def attempt_count(self) -> int:
        return self._attempt_count

    def _next_attempt(self) -> None:
        self._attempt_count += 1
        self._start_attempt()._listen(self)

    def on_child_completed(self, child: Task[Any]) -> None:
        if self.is_completed:
            return
        self.is_played = child.is_played
        if isinstance(child, TimerTask):
            self._next_attempt()
        elif not child.is_faulted:
            self.complete(child.result)
        else:
            self._retry_or_fail(child.exception or RuntimeError("attempt failed"))

    def _retry_or_fail(self, exception: Exception) -> None:
        now = self._clock()
        delay = self._retry_options.next_delay(
            attempt=self._attempt_count, first_attempt_time=self._first_attempt_time, now=now
        )
        if delay is None:
            self.fail(exception)
        else:
            self._create_timer(now + delay)._listen(self)


class CompositeTask(Task[ResultType]):
    """A task made of others; it listens to each child and decides when it is done."""

    def __init__(self, children: Sequence[Task[Any]]) -> None:
        super().__init__()
        self.children: tuple[Task[Any], ...] = tuple(children)
        for child in self.children:
            if not isinstance(child, Task):
                raise TypeError(f"expected tasks from context methods, got {type(child).__name__}")
        for child in self.children:
            if child.is_completed:
                self.on_child_completed(child)
            else:
                child._listen(self)

    def on_child_completed(self, child: Task[Any]) -> None:
        raise NotImplementedError


class WhenAllTask(CompositeTask[list[Any]]):
    """Results of every child, in the order given.

    Fails as soon as one child fails, with that child's exception, as
    azure.durable_functions does (durabletask-python instead holds the first
    failure until every child has finished; users porting DF code expect the
    fail-fast behaviour). Children still running simply finish unobserved.
    """

    def __init__(self, children: Sequence[Task[Any]]) -> None:
        self._completed_count = 0
        super().__init__(children)
        if not self.children:
            self._succeed([])

    def on_child_completed(self, child: Task[Any]) -> None:
        if self.is_completed:
            return
        self.is_played = child.is_played
        if child.is_faulted:
            self._fault(child.exception or RuntimeError("task failed"))
            return
        self._completed_count += 1
        if self._completed_count == len(self.children):
            self._succeed([each.result for each in self.children])


class WhenAnyTask(CompositeTask[Task[Any]]):
    """Completes with the first child to finish (the Task itself, success or failure); never fails."""

    def __init__(self, children: Sequence[Task[Any]]) -> None:
        if not children:
            raise ValueError("task_any needs at least one task")
        super().__init__(children)

    def on_child_completed(self, child: Task[Any]) -> None:
        if not self.is_completed:
            self.is_played = child.is_played
            self._succeed(child)
