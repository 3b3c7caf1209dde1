"""`DurableOrchestrationContext`: the `context` an orchestrator function receives.

Same names and behaviour as azure.durable_functions.DurableOrchestrationContext
so user code changes only its import. The context holds no replay machinery:
it reaches the executor through `OrchestrationRuntime`, one small ABC (as
temporal's workflow API reaches its instance), so the public class stays a
thin, documented facade and the executor's internals stay private.

Everything here must be deterministic: time comes from the runtime's
replay-safe clock, ids from its task counter, uuids from instance id + clock +
a counter. Imports only the standard library, `history`, `serialization` and
sibling modules.
"""

from __future__ import annotations

import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from durable_azure import serialization
from durable_azure.history import EventRaised, HistoryEvent, OrchestratorStarted
from durable_azure.orchestration import entity_calls
from durable_azure.orchestration.actions import (
    CreateSubOrchestrationAction,
    CreateTimerAction,
    ScheduleTaskAction,
    SchedulingAction,
    SendEventAction,
    activity_input,
)
from durable_azure.orchestration.entity_calls import EntityCallTask, EntityConversation, LockTask
from durable_azure.orchestration.http import HTTP_ACTIVITY_NAME, DurableHttpRequest, HttpSettings, TokenSource
from durable_azure.orchestration.http_task import HttpTask
from durable_azure.orchestration.retry import RetryOptions, as_retry_options
from durable_azure.orchestration.tasks import (
    ActivityTask,
    CompletableTask,
    ExternalEventTask,
    RetryableTask,
    SubOrchestrationTask,
    Task,
    TimerTask,
    WhenAllTask,
    WhenAnyTask,
)

_UUID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_OID, "9e952958-5e33-4daf-827f-2fa12937b875")
_UUID_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


class OrchestrationRuntime(ABC):
    """What the context needs from the executor replaying it; nothing else crosses this seam."""

    newest_waiter_first: bool = False
    """Several waiters on one event name: the newest gets the event (the official SDK's rule), else the oldest."""

    @property
    @abstractmethod
    def instance_id(self) -> str: ...

    @property
    @abstractmethod
    def parent_instance_id(self) -> str | None: ...

    @property
    @abstractmethod
    def version(self) -> str | None: ...

    @property
    @abstractmethod
    def input_text(self) -> str | None: ...

    @property
    @abstractmethod
    def current_utc_datetime(self) -> datetime: ...

    @property
    @abstractmethod
    def is_replaying(self) -> bool: ...

    @property
    @abstractmethod
    def will_continue_as_new(self) -> bool: ...

    @property
    @abstractmethod
    def histories(self) -> tuple[HistoryEvent, ...]: ...

    @property
    def execution_id(self) -> str | None:
        """The current execution's id (entity replies are addressed to it)."""
        return None

    @property
    def started_at(self) -> datetime:
        """When the current execution started (ExecutionStarted's time): a clock that replays never move."""
        return self.current_utc_datetime

    @property
    def http_settings(self) -> HttpSettings:
        """call_http's host.json settings (the extension's defaults unless a runtime is given others)."""
        return HttpSettings()

    def open_tasks(self) -> dict[int | str, Any]:
        """Scheduled tasks without an outcome yet (id -> task; event name -> the tasks waiting on it)."""
        return {}

    def deferred_events(self) -> dict[str, list[EventRaised]]:
        """External events received that no task waited for yet, by name."""
        return {}

    @abstractmethod
    def next_task_id(self) -> int:
        """Consume the next sequential task id of this execution."""

    @abstractmethod
    def submit(self, action: SchedulingAction, task: CompletableTask[Any] | None) -> None:
        """Record `action`; `task` completes when history reports the action's outcome."""

    @abstractmethod
    def wait_for_event(self, task: ExternalEventTask) -> None:
        """Complete `task` with the next EventRaised of its name (a buffered one, or a later one)."""

    @abstractmethod
    def continue_as_new(self, input_text: str | None) -> None: ...

    @abstractmethod
    def set_custom_status(self, status_text: str | None) -> None: ...


class FunctionContext:
    """azure.durable_functions' `context.function_context`: the trigger's fields Durable does not use.

    The SDK fills it from extra fields of the extension's orchestration-trigger payload; this host sends
    none, so it is empty unless a caller passes attributes.
    """

    def __init__(self, **kwargs: Any) -> None:
        for key, value in kwargs.items():
            setattr(self, key, value)


class DurableOrchestrationContext:
    """The orchestrator's view of its instance; every durable call returns a task to `yield`."""

    def __init__(self, runtime: OrchestrationRuntime) -> None:
        self._runtime = runtime
        self._custom_status: Any = None
        self._uuid_counter = 0
        self._function_context = FunctionContext()
        self._entity_state = EntityConversation()

    @classmethod
    def from_json(cls, json_string: str) -> DurableOrchestrationContext:
        """Not supported: the SDK builds its context from the extension's trigger JSON; this host builds it
        from the history it replays (`durable_azure.orchestration.OrchestrationExecutor`)."""
        raise NotImplementedError(
            "DurableOrchestrationContext.from_json is not supported: durable-azure has no extension trigger "
            "payload; replay a history with durable_azure.orchestration.OrchestrationExecutor to test orchestrators"
        )

    # -- identity, input, clock --

    @property
    def instance_id(self) -> str:
        return self._runtime.instance_id

    @property
    def parent_instance_id(self) -> str | None:
        return self._runtime.parent_instance_id

    @property
    def version(self) -> str | None:
        return self._runtime.version

    @property
    def is_replaying(self) -> bool:
        """True while the code runs again for events already in history (e.g. to skip logging)."""
        return self._runtime.is_replaying

    @property
    def current_utc_datetime(self) -> datetime:
        """Timestamp of the current episode's OrchestratorStarted: the same on every replay."""
        return self._runtime.current_utc_datetime

    @property
    def will_continue_as_new(self) -> bool:
        return self._runtime.will_continue_as_new

    @property
    def histories(self) -> list[HistoryEvent]:
        """The events replayed so far in this execution."""
        return list(self._runtime.histories)

    @property
    def decision_started_event(self) -> OrchestratorStarted | None:
        """The SDK's attribute: the first OrchestratorStarted of this execution's history (our event type)."""
        return next((event for event in self._runtime.histories if isinstance(event, OrchestratorStarted)), None)

    @property
    def open_tasks(self) -> dict[int | str, Any]:
        """The SDK's attribute, as a snapshot: task id -> task still waiting; event name -> waiting tasks."""
        return self._runtime.open_tasks()

    @property
    def deferred_tasks(self) -> dict[str, list[EventRaised]]:
        """The SDK's attribute, as a snapshot: events raised before anything waited on them, by name."""
        return self._runtime.deferred_events()

    @property
    def custom_status(self) -> Any:
        return self._custom_status

    @property
    def function_context(self) -> FunctionContext:
        return self._function_context

    def get_input(self, expected_type: type | None = None) -> Any:
        """The input; `expected_type` decodes a custom object whose class's module is not loaded yet."""
        return serialization.loads(self._runtime.input_text, expected_type)

    def new_uuid(self) -> str:
        """Deterministic uuid5, computed exactly as azure.durable_functions does (same ids on replay)."""
        name = f"{self.instance_id}_{self.current_utc_datetime.strftime(_UUID_TIME_FORMAT)}_{self._next_uuid_count()}"
        return str(uuid.uuid5(_UUID_NAMESPACE, name))

    def new_guid(self) -> uuid.UUID:
        """Deterministic uuid5 over the URL namespace; shares `new_uuid`'s counter (as in DF)."""
        name = f"{self.instance_id}_{self.current_utc_datetime}_{self._next_uuid_count()}"
        return uuid.uuid5(uuid.NAMESPACE_URL, name)

    def _next_uuid_count(self) -> int:
        count = self._uuid_counter
        self._uuid_counter += 1
        return count

    # -- activities and sub-orchestrations --

    # `expected_type` (every call below): the SDK's argument; a result in the custom-object envelope whose
    # class's module is not loaded is decoded with that class's `from_json`.

    def call_activity(
        self, name: str | Callable[..., Any], input_: Any = None, expected_type: type | None = None
    ) -> ActivityTask:
        activity_name = _function_name(name, "activity")
        input_text = _dump_input(input_, f"activity '{activity_name}' input")
        return self._schedule_activity(activity_name, input_text, expected_type)

    def call_activity_with_retry(
        self,
        name: str | Callable[..., Any],
        retry_options: RetryOptions,
        input_: Any = None,
        expected_type: type | None = None,
    ) -> RetryableTask:
        activity_name = _function_name(name, "activity")
        input_text = _dump_input(input_, f"activity '{activity_name}' input")

        def attempt() -> ActivityTask:
            return self._schedule_activity(activity_name, input_text, expected_type)

        return self._retry(retry_options, attempt, expected_type)

    def call_sub_orchestrator(
        self,
        name: str | Callable[..., Any],
        input_: Any = None,
        instance_id: str | None = None,
        version: str | None = None,
        expected_type: type | None = None,
    ) -> SubOrchestrationTask:
        """A child instance; `version` becomes its `context.version` (the extension's orchestration version)."""
        orchestrator_name = _function_name(name, "sub-orchestrator")
        input_text = _dump_input(input_, f"sub-orchestrator '{orchestrator_name}' input")
        return self._schedule_sub_orchestrator(orchestrator_name, input_text, instance_id, version, expected_type)

    def call_sub_orchestrator_with_retry(
        self,
        name: str | Callable[..., Any],
        retry_options: RetryOptions,
        input_: Any = None,
        instance_id: str | None = None,
        version: str | None = None,
        expected_type: type | None = None,
    ) -> RetryableTask:
        orchestrator_name = _function_name(name, "sub-orchestrator")
        input_text = _dump_input(input_, f"sub-orchestrator '{orchestrator_name}' input")

        def attempt() -> SubOrchestrationTask:
            return self._schedule_sub_orchestrator(orchestrator_name, input_text, instance_id, version, expected_type)

        return self._retry(retry_options, attempt, expected_type)

    def _schedule_activity(self, name: str, input_text: str | None, expected_type: type | None) -> ActivityTask:
        task_id = self._runtime.next_task_id()
        task = ActivityTask(id=task_id, name=name)
        task.expected_type = expected_type
        self._runtime.submit(ScheduleTaskAction(id=task_id, name=name, input=activity_input(input_text)), task)
        return task

    def _schedule_sub_orchestrator(
        self,
        name: str,
        input_text: str | None,
        instance_id: str | None,
        version: str | None,
        expected_type: type | None,
    ) -> SubOrchestrationTask:
        if version is not None and not isinstance(version, str):
            raise TypeError(f"version must be a string, not {type(version).__name__}")
        task_id = self._runtime.next_task_id()
        # Derived from the parent id and task id so a replay asks for the very same child.
        child_id = instance_id or f"{self.instance_id}:{task_id}"
        task = SubOrchestrationTask(id=task_id, name=name, instance_id=child_id)
        task.expected_type = expected_type
        action = CreateSubOrchestrationAction(
            id=task_id, name=name, instance_id=child_id, input=input_text, version=version
        )
        self._runtime.submit(action, task)
        return task

    def _retry(
        self,
        retry_options: RetryOptions,
        start_attempt: Callable[[], CompletableTask[Any]],
        expected_type: type | None = None,
    ) -> RetryableTask:
        task = RetryableTask(
            retry_options=as_retry_options(retry_options),
            start_attempt=start_attempt,
            create_timer=self.create_timer,
            clock=lambda: self.current_utc_datetime,
        )
        task.expected_type = expected_type
        return task

    # -- timers, events, composition --

    def create_timer(self, fire_at: datetime) -> TimerTask:
        """A durable timer firing at `fire_at` (a naive datetime is taken as UTC)."""
        if fire_at.tzinfo is None:
            fire_at = fire_at.replace(tzinfo=UTC)
        task_id = self._runtime.next_task_id()
        task = TimerTask(id=task_id, fire_at=fire_at)
        self._runtime.submit(CreateTimerAction(id=task_id, fire_at=fire_at), task)
        return task

    def wait_for_external_event(self, name: str, expected_type: type | None = None) -> ExternalEventTask:
        """Waits for the next event raised with `name`, matched case-insensitively as DTFx does.

        An event raised before anybody waits is kept; each event completes one waiter.
        """
        task = ExternalEventTask(name=name)
        task.expected_type = expected_type
        self._runtime.wait_for_event(task)
        return task

    def send_event(self, instance_id: str, name: str, data: Any = None) -> None:
        """Fire-and-forget: raise event `name` on another instance (DTFx SendEvent; not in DF Python)."""
        data_text = _dump_input(data, f"event '{name}' data")
        task_id = self._runtime.next_task_id()
        self._runtime.submit(SendEventAction(id=task_id, instance_id=instance_id, name=name, data=data_text), None)

    def task_all(self, activities: Sequence[Task[Any]]) -> WhenAllTask:
        """Every task's result, in order; fails with the first failure (`activities`: the SDK's name)."""
        return WhenAllTask(list(activities))

    def task_any(self, activities: Sequence[Task[Any]]) -> WhenAnyTask:
        """The first task to finish, itself (`activities`: the SDK's name)."""
        return WhenAnyTask(list(activities))

    # -- entities (entity_calls.py) --

    def call_entity(
        self, entityId: Any, operationName: str, operationInput: Any = None, expected_type: type | None = None
    ) -> EntityCallTask:
        """Run an operation on an entity and get its result (EntityOperationFailedError if it raised)."""
        return entity_calls.call_entity(self, entityId, operationName, operationInput, expected_type)

    def signal_entity(self, entityId: Any, operationName: str, operationInput: Any = None) -> None:
        """Send an operation to an entity without waiting for it (fire and forget)."""
        entity_calls.signal_entity(self, entityId, operationName, operationInput)

    def lock(self, entity_ids: Iterable[Any]) -> LockTask:
        """Enter a critical section on `entity_ids`: `with (yield context.lock([a, b])):` (not in the Python SDK)."""
        return entity_calls.lock(self, entity_ids)

    @property
    def _execution_id(self) -> str | None:
        return self._runtime.execution_id

    # -- ending and status --

    def continue_as_new(self, input_: Any) -> None:
        """Restart this instance with `input_` once the orchestrator returns; later calls schedule nothing."""
        self._runtime.continue_as_new(_dump_input(input_, "continue_as_new input"))

    def set_custom_status(self, status: Any) -> None:
        serialization.check_serializable(status, "custom status")
        self._custom_status = status
        self._runtime.set_custom_status(None if status is None else serialization.dumps(status))

    # -- durable HTTP --

    def call_http(
        self,
        method: str,
        uri: str,
        content: Any = None,
        headers: dict[str, str] | None = None,
        token_source: TokenSource | None = None,
        is_raw_str: bool = False,
    ) -> HttpTask:
        """A durable HTTP request, recorded in history so replay never sends it again (azure.durable_functions').

        `content` other than None is sent as JSON (`json.dumps`), or as is when `is_raw_str` (then it
        must be a str). A 202 with a Location header is polled with GETs until another status comes
        back, waiting Retry-After seconds, or host.json's `httpSettings.defaultAsyncRequestSleepTimeMilliseconds`,
        between polls. The result is a `DurableHttpResponse` (`statusCode`, `headers`, `content`).
        """
        if is_raw_str and not isinstance(content, str):
            raise TypeError(
                "Invalid use of 'is_raw_str' parameter: 'is_raw_str' is set to 'True' but 'content' is not "
                "an instance of type 'str'. Either set 'is_raw_str' to 'False', "
                "or ensure your 'content' is of type 'str'."
            )
        if not isinstance(method, str) or not method.strip():
            raise ValueError(f"call_http needs an HTTP method, got {method!r}")
        if not isinstance(uri, str) or not uri.strip():
            raise ValueError(f"call_http needs a URI, got {uri!r}")
        if token_source is not None and not isinstance(token_source, TokenSource):
            raise TypeError(f"token_source must be a TokenSource, not {type(token_source).__name__}")
        body = None if content is None else (content if is_raw_str else serialization.dumps(content))
        request = DurableHttpRequest(method, uri, body, dict(headers) if headers else headers, token_source)
        settings = self._runtime.http_settings
        return HttpTask(
            request=request,
            send=lambda each: self._schedule_activity(HTTP_ACTIVITY_NAME, each.activity_input(), None),
            create_timer=self.create_timer,
            clock=lambda: self.current_utc_datetime,
            default_poll_interval=settings.default_async_request_sleep_time,
        )


def _function_name(name: str | Callable[..., Any], what: str) -> str:
    """A registered name: a string, or a function the DFApp decorators marked with `_durable_name`."""
    if isinstance(name, str):
        return name
    registered = getattr(name, "_durable_name", None)
    if isinstance(registered, str):
        return registered
    label = getattr(name, "__name__", repr(name))
    raise ValueError(f"{label} is not a registered {what} function: pass its name or a function decorated for it")


def _dump_input(value: Any, what: str) -> str | None:
    if value is None:
        return None
    serialization.check_serializable(value, what)
    return serialization.dumps(value)
