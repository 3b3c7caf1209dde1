"""Orchestrations and activities the worker tests run, registered without the Functions face."""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import timedelta

from durable_azure.orchestration import RetryOptions
from durable_azure.worker import ActivityFunction, Registry

attempts: dict[str, int] = {}
_attempts_lock = threading.Lock()


def say_hello(name: str) -> str:
    return f"Hello {name}!"


async def double(value: int) -> int:
    await asyncio.sleep(0)
    return value * 2


def flaky(key: str) -> str:
    """Fails the first two calls for each key, then succeeds."""
    with _attempts_lock:
        attempts[key] = attempts.get(key, 0) + 1
        attempt = attempts[key]
    if attempt < 3:
        raise RuntimeError(f"attempt {attempt} failed")
    return f"ok after {attempt}"


def fail(message: str) -> None:
    raise ValueError(message)


def echo_length(value: str) -> int:
    return len(value)


runs: dict[str, int] = {}
concurrency = {"now": 0, "max": 0}


def slow(key: str) -> str:
    """Takes longer than the test's work-item visibility timeout; counts how often it ran."""
    with _attempts_lock:
        runs[key] = runs.get(key, 0) + 1
    time.sleep(3)
    return threading.current_thread().name


def busy(_: int) -> None:
    with _attempts_lock:
        concurrency["now"] += 1
        concurrency["max"] = max(concurrency["max"], concurrency["now"])
    time.sleep(0.3)
    with _attempts_lock:
        concurrency["now"] -= 1


async def on_loop(_: None) -> str:
    return threading.current_thread().name


def hello_sequence(context):
    return [
        (yield context.call_activity("say_hello", "Tokyo")),
        (yield context.call_activity("say_hello", "Seattle")),
        (yield context.call_activity("say_hello", "London")),
    ]


def fan_out_fan_in(context):
    count = context.get_input()
    results = yield context.task_all([context.call_activity("double", i) for i in range(count)])
    return sum(results)


def timer_then_done(context):
    seconds = context.get_input()
    yield context.create_timer(context.current_utc_datetime + timedelta(seconds=seconds))
    return "timer fired"


def approval(context):
    approved = yield context.wait_for_external_event("Approval")
    return {"approved": approved}


def parent(context):
    child = yield context.call_sub_orchestrator("hello_sequence")
    return {"child": child}


def retried(context):
    options = RetryOptions(first_retry_interval_in_milliseconds=200, max_number_of_attempts=3)
    return (yield context.call_activity_with_retry("flaky", options, context.instance_id))


def countdown(context):
    remaining = context.get_input()
    if remaining > 0:
        context.continue_as_new(remaining - 1)
        return None
    return "liftoff"


def catches_failure(context):
    try:
        yield context.call_activity("fail", "boom")
    except Exception as error:
        return f"caught: {error}"


def fails_uncaught(context):
    yield context.call_activity("fail", "kaboom")


def catches_child_failure(context):
    """Reads a failed child as SDK apps read one: the text, and the child's own activity failure in it."""
    try:
        yield context.call_sub_orchestrator("fails_uncaught")
    except Exception as error:
        message, _, stack = error.details.partition(", StackTrace: ")
        return {
            "text_is_reason_then_details": str(error) == f"{error.reason} \n {error.details}",
            "reason": error.reason.split(" \n ")[0],
            "message": message.split(" \n ")[0],
            "stack": stack.splitlines()[0],
        }


def large_payload(context):
    return (yield context.call_activity("echo_length", context.get_input()))


def two_approvals(context):
    first = yield context.wait_for_external_event("Approval")
    second = yield context.wait_for_external_event("Approval")
    return [first, second]


def slow_once(context):
    return (yield context.call_activity("slow", context.instance_id))


def busy_fan_out(context):
    yield context.task_all([context.call_activity("busy", i) for i in range(context.get_input())])
    return "done"


def threads(context):
    sync_thread = yield context.call_activity("slow", context.instance_id)
    async_thread = yield context.call_activity("on_loop")
    return [sync_thread, async_thread]


def reuses_child_id(context):
    first = yield context.call_sub_orchestrator("hello_sequence", instance_id=f"{context.instance_id}-child")
    second = yield context.call_sub_orchestrator("hello_sequence", instance_id=f"{context.instance_id}-child")
    return [first[0], second[0]]


def registry() -> Registry:
    activities = {
        "say_hello": say_hello,
        "double": double,
        "flaky": flaky,
        "fail": fail,
        "echo_length": echo_length,
        "slow": slow,
        "busy": busy,
        "on_loop": on_loop,
    }
    orchestrators = [
        hello_sequence,
        fan_out_fan_in,
        timer_then_done,
        approval,
        parent,
        retried,
        countdown,
        catches_failure,
        fails_uncaught,
        catches_child_failure,
        large_payload,
        two_approvals,
        slow_once,
        busy_fan_out,
        threads,
        reuses_child_id,
    ]
    return Registry(
        orchestrators={function.__name__: function for function in orchestrators},
        activities={
            name: ActivityFunction(name=name, function=function, input_name=_first_parameter(function))
            for name, function in activities.items()
        },
    )


def _first_parameter(function) -> str:
    return function.__code__.co_varnames[0]
