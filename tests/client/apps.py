"""Orchestrations and activities of the client tests; activities the test controls through threading events."""

from __future__ import annotations

import threading
from collections import defaultdict
from datetime import timedelta

from durable_azure.worker import ActivityFunction, Registry

GATE_LIMIT_SECONDS = 60
"""A gate left shut by a failed test opens by itself, so the worker can still stop."""

gate_entered: defaultdict[str, threading.Event] = defaultdict(threading.Event)
gate_opened: defaultdict[str, threading.Event] = defaultdict(threading.Event)
gate_left: defaultdict[str, threading.Event] = defaultdict(threading.Event)
allowed: set[str] = set()
calls: defaultdict[str, int] = defaultdict(int)


def gate(key: str) -> str:
    """Blocks until the test opens the gate for `key`."""
    gate_entered[key].set()
    gate_opened[key].wait(GATE_LIMIT_SECONDS)
    gate_left[key].set()
    return f"passed {key}"


def fail_unless_allowed(key: str) -> str:
    calls[key] += 1
    if key not in allowed:
        raise RuntimeError(f"{key} is not allowed yet")
    return f"{key} allowed after {calls[key]} calls"


def say_hello(name: str) -> str:
    return f"Hello {name}!"


def echo_length(text: str) -> int:
    return len(text)


def hello(context):
    return f"Hello {context.get_input()}!"


def hello_activity(context):
    return (yield context.call_activity("say_hello", context.get_input()))


def approval(context):
    return {"approved": (yield context.wait_for_external_event("Approval"))}


def three_events(context):
    items = []
    for _ in range(3):
        items.append((yield context.wait_for_external_event("Item")))
    return items


def gated(context):
    return (yield context.call_activity("gate", context.instance_id))


def gate_then_two_events(context):
    yield context.call_activity("gate", context.instance_id)
    first = yield context.wait_for_external_event("Item")
    second = yield context.wait_for_external_event("Item")
    return [first, second]


def long_timer(context):
    yield context.create_timer(context.current_utc_datetime + timedelta(hours=1))
    return "fired"


def failing_step(context):
    before = yield context.call_activity("say_hello", "before")
    after = yield context.call_activity("fail_unless_allowed", context.instance_id)
    return [before, after]


def parent_of_failing(context):
    child = yield context.call_sub_orchestrator("failing_step", instance_id=f"{context.instance_id}-child")
    return {"child": child}


def large_input_length(context):
    return (yield context.call_activity("echo_length", context.get_input()))


def reports_version(context):
    child = yield context.call_sub_orchestrator("child_version", instance_id=f"{context.instance_id}-c", version="7")
    return {"version": context.version, "child": child}


def child_version(context):
    return context.version


def registry() -> Registry:
    activities = {
        "gate": (gate, "key"),
        "fail_unless_allowed": (fail_unless_allowed, "key"),
        "say_hello": (say_hello, "name"),
        "echo_length": (echo_length, "text"),
    }
    orchestrators = [
        hello,
        hello_activity,
        approval,
        three_events,
        gated,
        gate_then_two_events,
        long_timer,
        failing_step,
        parent_of_failing,
        large_input_length,
        reports_version,
        child_version,
    ]
    return Registry(
        orchestrators={function.__name__: function for function in orchestrators},
        activities={
            name: ActivityFunction(name=name, function=function, input_name=parameter)
            for name, (function, parameter) in activities.items()
        },
    )


def open_every_gate() -> None:
    for event in list(gate_opened.values()):
        event.set()
