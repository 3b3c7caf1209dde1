"""Per-execution replay state behind `OrchestrationRuntime`: task ids, actions, open tasks, events.

The executor owns one `ExecutionRuntime` per execution and feeds it history;
the context calls it to schedule work. It knows which actions are produced
but not yet recorded in history (`pending`), which tasks wait for an outcome
(`open`), and which external events wait for a waiter (buffered FIFO per
name, case-insensitively, as DTFx matches event names).

Imports only the standard library, `history`, `errors`, `serialization` and siblings.
"""

from __future__ import annotations

from collections import deque
from datetime import datetime
from typing import Any

from durable_azure import serialization
from durable_azure.errors import NonDeterminismError
from durable_azure.history import EventRaised, ExecutionStarted, HistoryEvent
from durable_azure.orchestration.actions import (
    SchedulingAction,
    describe_action,
    describe_history_event,
    matches_history_event,
)
from durable_azure.orchestration.context import OrchestrationRuntime
from durable_azure.orchestration.http import HttpSettings
from durable_azure.orchestration.state import OrchestrationState
from durable_azure.orchestration.tasks import CompletableTask, ExternalEventTask


class ExecutionRuntime(OrchestrationRuntime):
    """State of one execution while its generator is alive; see the module docstring."""

    def __init__(
        self,
        *,
        started: ExecutionStarted,
        state: OrchestrationState,
        clock: datetime,
        http_settings: HttpSettings | None = None,
    ) -> None:
        self._started = started
        self._http_settings = http_settings or HttpSettings()
        self._state = state
        self.clock = clock
        self.replaying = False
        self._next_task_id = 0
        self._pending: dict[int, SchedulingAction] = {}
        self._open: dict[int, CompletableTask[Any]] = {}
        # Waiters in a list (a name rarely has more than one), not a deque: an instance waiting on an event
        # is often cached for a long time, and an empty deque alone costs 600 bytes. Empty entries are removed.
        self._waiters: dict[str, list[ExternalEventTask]] = {}
        # Which waiter an event goes to when several wait on one name: the oldest (DTFx, the native path), or
        # the newest, as the official SDK and the extension's out-of-process shim do (protocol/shim.py).
        self.newest_waiter_first = False
        self._buffered: dict[str, deque[tuple[int, EventRaised, bool]]] = {}  # (arrival, event, is_played)
        self._arrivals = 0
        self._continue_as_new_input: str | None = None
        self._will_continue_as_new = False
        self.custom_status_text: str | None = None

    # -- OrchestrationRuntime --

    @property
    def http_settings(self) -> HttpSettings:
        """call_http's host.json settings: host configuration, not history."""
        return self._http_settings

    @property
    def execution_id(self) -> str | None:
        return self._started.orchestration_instance.execution_id

    @property
    def started_at(self) -> datetime:
        return self._started.timestamp

    @property
    def instance_id(self) -> str:
        return self._started.orchestration_instance.instance_id

    @property
    def parent_instance_id(self) -> str | None:
        parent = self._started.parent_instance
        return parent.orchestration_instance.instance_id if parent is not None else None

    @property
    def version(self) -> str | None:
        return self._started.version

    @property
    def input_text(self) -> str | None:
        return self._started.input

    @property
    def current_utc_datetime(self) -> datetime:
        return self.clock

    @property
    def is_replaying(self) -> bool:
        return self.replaying

    @property
    def will_continue_as_new(self) -> bool:
        return self._will_continue_as_new

    @property
    def continue_as_new_input(self) -> str | None:
        return self._continue_as_new_input

    @property
    def histories(self) -> tuple[HistoryEvent, ...]:
        return self._state.events

    def next_task_id(self) -> int:
        task_id = self._next_task_id
        self._next_task_id += 1
        return task_id

    def submit(self, action: SchedulingAction, task: CompletableTask[Any] | None) -> None:
        # After continue_as_new the execution is over: DF ignores further actions, and so do we.
        if self._will_continue_as_new:
            return
        self._pending[action.id] = action
        if task is not None:
            self._open[action.id] = task

    def wait_for_event(self, task: ExternalEventTask) -> None:
        key = task.name.casefold()
        buffered = self._buffered.get(key)
        if buffered:
            _, event, task.is_played = buffered.popleft()
            if not buffered:
                del self._buffered[key]
            _deliver(task, event.input)
        else:
            self._waiters.setdefault(key, []).append(task)

    def continue_as_new(self, input_text: str | None) -> None:
        self._will_continue_as_new = True
        self._continue_as_new_input = input_text

    def set_custom_status(self, status_text: str | None) -> None:
        self.custom_status_text = status_text

    # -- fed by the executor from history --

    def match_scheduling_event(self, event: HistoryEvent) -> None:
        """Check a replayed scheduling event against what the orchestrator produced at that id."""
        action = self._pending.pop(event.event_id, None)
        task_id = event.event_id
        recorded = f"Non-deterministic workflow: history has {describe_history_event(event)} at task {task_id}"
        if action is None:
            raise NonDeterminismError(f"{recorded} but the orchestrator scheduled nothing at task {task_id}")
        if not matches_history_event(action, event):
            raise NonDeterminismError(
                f"{recorded} but the orchestrator scheduled {describe_action(action)} at task {task_id}"
            )

    def complete_task(self, task_id: int, result_text: str | None) -> None:
        """Resolve the open task `task_id`; unknown ids (duplicates, cancelled timers) are ignored."""
        task = self._open.pop(task_id, None)
        if task is not None and not task.is_completed:
            task.is_played = self.replaying
            _resolve(task, result_text)

    def fail_task(self, task_id: int, exception: Exception) -> None:
        task = self._open.pop(task_id, None)
        if task is not None and not task.is_completed:
            task.is_played = self.replaying
            task.fail(exception)

    def raise_event(self, event: EventRaised) -> None:
        """Give the event to the oldest waiter of that name (or newest, see above), or keep it for a later wait."""
        key = event.name.casefold()
        waiters = self._waiters.get(key)
        if waiters:
            waiter = waiters.pop() if self.newest_waiter_first else waiters.pop(0)
            if not waiters:
                del self._waiters[key]
            waiter.is_played = self.replaying
            _deliver(waiter, event.input)
            return
        self._arrivals += 1
        self._buffered.setdefault(key, deque()).append((self._arrivals, event, self.replaying))

    def take_new_actions(self) -> tuple[SchedulingAction, ...]:
        """Actions produced but not yet in history, in task-id order; they count as recorded from now on."""
        actions = tuple(self._pending[task_id] for task_id in sorted(self._pending))
        self._pending.clear()
        return actions

    def drop_new_actions(self) -> None:
        """Forget unrecorded actions: the execution ended in a way that must not start more work."""
        self._pending.clear()

    def unconsumed_events(self) -> tuple[EventRaised, ...]:
        """Events nobody waited for, in arrival order (DTFx's carryover on continue-as-new)."""
        remaining = sorted((item[:2] for queue in self._buffered.values() for item in queue), key=lambda item: item[0])
        return tuple(event for _, event in remaining)

    def open_tasks(self) -> dict[int | str, Any]:
        """Tasks waiting for their outcome: id -> task; for external events, name -> the waiting tasks."""
        tasks: dict[int | str, Any] = {task_id: task for task_id, task in self._open.items() if not task.is_completed}
        for waiters in self._waiters.values():
            tasks[waiters[0].name] = list(waiters)
        return tasks

    def deferred_events(self) -> dict[str, list[EventRaised]]:
        """Events raised that no task has waited for yet, by name, oldest first."""
        return {queue[0][1].name: [event for _, event, _ in queue] for queue in self._buffered.values()}


def _deliver(task: ExternalEventTask, payload_text: str | None) -> None:
    """An event for a waiter: entity replies decode themselves (entity_calls.py), other events are JSON payloads."""
    deliver = getattr(task, "deliver_payload", None)
    if deliver is not None:
        deliver(payload_text)
    else:
        _resolve(task, payload_text)


def _resolve(task: CompletableTask[Any], payload_text: str | None) -> None:
    """Decode a payload into the task; a payload that cannot be decoded fails the task, not the engine."""
    try:
        value = serialization.loads(payload_text)
    except Exception as error:  # user from_json code or corrupt JSON: surfaced at the yield
        task.fail(error)
        return
    task.complete(value)
