"""The extension's orchestrator shim: the SDK's actions replayed through the engine, as DTFx replays them.

Each episode the SDK returns every action scheduled since the execution began.
The shim is an orchestrator for the native engine that walks that list from
the top, calling the engine for each action: an action history already holds
is matched there (same kind and name at the same task id, else the engine's
non-determinism failure), the first ones it does not hold become this episode's
new work. V2 and V3 walk top-level actions one by one, each awaited before the
next with its failure swallowed (the SDK has already seen it); V1 walks one
inner list per `yield`, awaiting any of it. Compound actions invoke their
children in order, and a WhenAll waits for every child, as `Task.WhenAll` does.

Retries are DTFx's RetryInterceptor, which the SDK's RetryAbleTask mirrors: a
timer after every failed attempt (after the last one a timer due at once, DTFx's
"dummy timer for back-compat"), and the failure only once that timer fired.
Inputs arrive as the SDK's JSON text; the extension hands them on as strings,
so a child orchestration's, a continue-as-new's and an entity operation's input
are stored encoded once more, exactly as it stores them. An activity's input is
stored in DTFx's parameter array, as on the native path.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Generator
from datetime import UTC, datetime, timedelta
from typing import Any

from durable_azure import serialization
from durable_azure.errors import OrchestrationError
from durable_azure.orchestration import entity_calls
from durable_azure.orchestration.actions import CreateSubOrchestrationAction, ScheduleTaskAction, activity_input
from durable_azure.orchestration.context import DurableOrchestrationContext
from durable_azure.orchestration.http import ManagedIdentityTokenSource
from durable_azure.orchestration.tasks import (
    ActivityTask,
    CompletableTask,
    CompositeTask,
    SubOrchestrationTask,
    Task,
    TimerTask,
    WhenAnyTask,
)
from durable_azure.protocol.replies import OrchestratorReply, ProtocolError, ReplyAction, ReplyActionType

ShimFunction = Callable[[DurableOrchestrationContext], Generator[Any, Any, Any]]


class OrchestratorFunctionError(OrchestrationError):
    """The SDK reported the orchestrator failed; the message is its `error`, as the extension words it."""


def shim_for(reply: OrchestratorReply) -> ShimFunction:
    """The orchestrator that replays `reply` through the engine."""

    def shim(context: DurableOrchestrationContext) -> Generator[Any, Any, Any]:
        context._runtime.newest_waiter_first = True  # the SDK gives an event to its newest waiter
        if reply.has_custom_status:
            status = reply.custom_status
            context._runtime.set_custom_status(None if status is None else serialization.dumps(status))
        invoker = _Invoker(context)
        for step in reply.steps:
            if reply.schema_version == 0:  # V1: one inner list per yield
                waits = [task for task in (invoker.invoke(action) for action in step) if task is not None]
                if waits:
                    yield from _await(waits[0] if len(waits) == 1 else WhenAnyTask(waits))
                continue
            for action in step:
                task = invoker.invoke(action)
                if task is not None:
                    yield from _await(task)
        if reply.raw_error is not None:
            raise OrchestratorFunctionError(reply.raw_error)
        if reply.error is not None:
            raise OrchestratorFunctionError(reply.error)
        if reply.is_done:
            return reply.output
        yield CompletableTask()  # not done: wait for the next episode's reply (never completes in this one)

    return shim


def _await(task: Task[Any]) -> Generator[Any, Any, None]:
    with contextlib.suppress(Exception):  # the SDK saw this failure in history and decided what follows it
        yield task


class _Invoker:
    """Turns one reply action into engine calls; returns the task to await, or None (fire and forget)."""

    def __init__(self, context: DurableOrchestrationContext) -> None:
        self._context = context
        self._runtime = context._runtime

    def invoke(self, action: ReplyAction) -> Task[Any] | None:
        fields, kind = action.fields, action.type
        if kind is ReplyActionType.CallActivity:
            return self._activity(_required(fields, "functionName"), fields.get("input"))
        if kind is ReplyActionType.CallActivityWithRetry:
            name, input_text = _required(fields, "functionName"), fields.get("input")
            return self._retry(fields, lambda: self._activity(name, input_text))
        if kind is ReplyActionType.CallSubOrchestrator:
            return self._sub_orchestrator(fields)
        if kind is ReplyActionType.CallSubOrchestratorWithRetry:
            return self._retry(fields, lambda: self._sub_orchestrator(fields))
        if kind is ReplyActionType.ContinueAsNew:
            self._runtime.continue_as_new(_encoded_again(fields.get("input")))
            return None
        if kind is ReplyActionType.CreateTimer:
            timer = self._context.create_timer(_parse_time(_required(fields, "fireAt")))
            if fields.get("isCanceled"):
                timer.complete(None)  # scheduled (it has its task id) but no longer awaited, as DTFx cancels it
            return timer
        if kind is ReplyActionType.WaitForExternalEvent:
            return self._context.wait_for_external_event(_required(fields, "externalEventName"))
        if kind is ReplyActionType.CallEntity:
            entity, operation, value = _entity_call(fields)
            return entity_calls.call_entity(self._context, entity, operation, value)
        if kind is ReplyActionType.SignalEntity:
            entity, operation, value = _entity_call(fields)
            entity_calls.signal_entity(self._context, entity, operation, value)
            return None
        if kind is ReplyActionType.CallHttp:
            return self._http(_required(fields, "httpRequest"))
        if kind in (ReplyActionType.WhenAll, ReplyActionType.WhenAny):
            children = [task for task in (self.invoke(child) for child in action.children) if task is not None]
            if not children:
                return None
            return _WhenAll(children) if kind is ReplyActionType.WhenAll else WhenAnyTask(children)
        raise ProtocolError(f"Received an unexpected action type '{int(kind)}'")

    def _activity(self, name: str, input_text: str | None) -> ActivityTask:
        task_id = self._runtime.next_task_id()
        task = ActivityTask(id=task_id, name=name)
        self._runtime.submit(ScheduleTaskAction(id=task_id, name=name, input=activity_input(input_text)), task)
        return task

    def _sub_orchestrator(self, fields: dict[str, Any]) -> SubOrchestrationTask:
        name = _required(fields, "functionName")
        task_id = self._runtime.next_task_id()
        # The extension's default child id is DTFx's: the parent's execution id and the task id.
        child_id = fields.get("instanceId") or f"{self._runtime.execution_id}:{task_id}"
        task = SubOrchestrationTask(id=task_id, name=name, instance_id=child_id)
        action = CreateSubOrchestrationAction(
            id=task_id,
            name=name,
            instance_id=child_id,
            input=_encoded_again(fields.get("input")),
            version=fields.get("version"),
        )
        self._runtime.submit(action, task)
        return task

    def _retry(self, fields: dict[str, Any], attempt: Callable[[], CompletableTask[Any]]) -> Task[Any]:
        options = fields.get("retryOptions")
        if not isinstance(options, dict):
            raise ProtocolError("a retry action needs retryOptions")
        return _DtfxRetryTask(
            _RetryPolicy.from_json(options),
            attempt,
            create_timer=self._context.create_timer,
            clock=lambda: self._context.current_utc_datetime,
        )

    def _http(self, request: dict[str, Any]) -> Task[Any]:
        content = request.get("content")
        token = request.get("tokenSource")
        token_source = ManagedIdentityTokenSource(token["resource"]) if isinstance(token, dict) else None
        return self._context.call_http(
            _required(request, "method"),
            _required(request, "uri"),
            content,
            request.get("headers") or None,
            token_source,
            is_raw_str=isinstance(content, str),
        )


class _WhenAll(CompositeTask[list[Any]]):
    """.NET's Task.WhenAll: done when every child is; faulted with the first failure then."""

    def __init__(self, children: list[Task[Any]]) -> None:
        self._remaining = len(children)
        super().__init__(children)

    def on_child_completed(self, child: Task[Any]) -> None:
        self._remaining -= 1
        if self._remaining or self.is_completed:
            return
        failed = next((each for each in self.children if each.is_faulted), None)
        if failed is not None:
            self._fault(failed.exception or RuntimeError("task failed"))
        else:
            self._succeed([each.result for each in self.children])


class _RetryPolicy:
    """The extension's RetryOptions as the SDK sends them (milliseconds; absent means unlimited)."""

    def __init__(
        self,
        first: timedelta,
        max_attempts: int,
        backoff: float,
        max_interval: timedelta | None,
        timeout: timedelta | None,
    ) -> None:
        self.first, self.max_attempts, self.backoff = first, max_attempts, backoff
        self.max_interval, self.timeout = max_interval, timeout

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> _RetryPolicy:
        def milliseconds(key: str) -> timedelta | None:
            raw = value.get(key)
            return None if raw is None else timedelta(milliseconds=float(raw))

        first = milliseconds("firstRetryIntervalInMilliseconds")
        attempts = value.get("maxNumberOfAttempts")
        if first is None or first <= timedelta(0) or not isinstance(attempts, int) or attempts < 1:
            raise ProtocolError(f"invalid retryOptions {value!r}")
        backoff = float(value.get("backoffCoefficient") or 1.0)
        return cls(
            first,
            attempts,
            backoff,
            milliseconds("maxRetryIntervalInMilliseconds"),
            milliseconds("retryTimeoutInMilliseconds"),
        )

    def next_delay(self, retry_count: int, first_attempt: datetime, now: datetime) -> timedelta:
        """DTFx ComputeNextDelay: zero once the retry timeout has passed (then no timer: the failure stands)."""
        if self.timeout is not None and now >= first_attempt + self.timeout:
            return timedelta(0)
        delay = self.first * (self.backoff**retry_count)
        return delay if self.max_interval is None or delay < self.max_interval else self.max_interval


class _DtfxRetryTask(CompletableTask[Any]):
    """DTFx's retry loop: attempt; on failure a timer (also after the last attempt); then retry or fail."""

    def __init__(
        self,
        policy: _RetryPolicy,
        attempt: Callable[[], CompletableTask[Any]],
        *,
        create_timer: Callable[[datetime], TimerTask],
        clock: Callable[[], datetime],
    ) -> None:
        super().__init__()
        self._policy, self._attempt, self._create_timer, self._clock = policy, attempt, create_timer, clock
        self._first_attempt = clock()
        self._retry_count = 0
        self._last_failure: Exception | None = None
        self._attempt()._listen(self)

    def on_child_completed(self, child: Task[Any]) -> None:
        if self.is_completed:
            return
        self.is_played = child.is_played
        if isinstance(child, TimerTask):
            self._retry_count += 1
            if self._retry_count >= self._policy.max_attempts:
                self.fail(self._last_failure or RuntimeError("attempt failed"))
            else:
                self._attempt()._listen(self)
        elif not child.is_faulted:
            self.complete(child.result)
        else:
            self._last_failure = child.exception or RuntimeError("attempt failed")
            now = self._clock()
            if self._retry_count + 1 >= self._policy.max_attempts:
                # DTFx's "dummy timer for back-compat" after the last attempt, due at once: the SDK waits for it.
                self._create_timer(now)._listen(self)
                return
            delay = self._policy.next_delay(self._retry_count, self._first_attempt, now)
            if delay <= timedelta(0):
                self.fail(self._last_failure)
            else:
                self._create_timer(now + delay)._listen(self)


def _entity_call(fields: dict[str, Any]) -> tuple[str, str, Any]:
    input_text = fields.get("input")
    value = None if input_text is None else json.loads(input_text)
    return _required(fields, "instanceId"), _required(fields, "operation"), value


def _encoded_again(input_text: Any) -> str | None:
    """What the extension stores for an input the SDK sent as JSON text: that text as a JSON string."""
    return None if input_text is None else json.dumps(input_text)


def _required(fields: dict[str, Any], key: str) -> Any:
    value = fields.get(key)
    if value is None:
        raise ProtocolError(f"action {fields.get('actionType')} has no {key}")
    return value


def _parse_time(text: str) -> datetime:
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
