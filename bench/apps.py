"""The orchestrations and activities the workloads run, registered without the Functions face.

They (and W7's counter entity) are deliberately trivial, so the figures measure the runtime and storage,
not user code. The DBOS peer (`peer_dbos.py`) implements the same shapes.
"""

from __future__ import annotations

from durable_azure.entities import DurableEntityContext
from durable_azure.worker import ActivityFunction, Registry

EVENT_NAME = "Tick"


def say_hello(name: str) -> str:
    return f"Hello {name}!"


def double(value: int) -> int:
    return value * 2


def hello_sequence(context):
    """W1: three activities one after another."""
    return [
        (yield context.call_activity("say_hello", "Tokyo")),
        (yield context.call_activity("say_hello", "Seattle")),
        (yield context.call_activity("say_hello", "London")),
    ]


def fan_out_fan_in(context):
    """W2: `count` activities in parallel, summed."""
    count = context.get_input()
    results = yield context.task_all([context.call_activity("double", index) for index in range(count)])
    return sum(results)


def event_loop(context):
    """W3: consume `count` external events one after another, summing their payloads."""
    total = 0
    for _ in range(context.get_input()):
        total += yield context.wait_for_external_event(EVENT_NAME)
    return total


def long_sequence(context):
    """W4: `count` sequential activities, so history grows by about 3 events per episode."""
    total = 0
    for index in range(context.get_input()):
        total += yield context.call_activity("double", index)
    return total


def counter(context: DurableEntityContext) -> None:
    """W7: the SDK sample's counter entity; `add` adds its input."""
    value = context.get_state(lambda: 0)
    if context.operation_name == "add":
        context.set_state(value + context.get_input())
    elif context.operation_name == "get":
        context.set_result(value)


def registry() -> Registry:
    activities = {"say_hello": (say_hello, "name"), "double": (double, "value")}
    orchestrators = [hello_sequence, fan_out_fan_in, event_loop, long_sequence]
    return Registry(
        orchestrators={function.__name__: function for function in orchestrators},
        activities={
            name: ActivityFunction(name=name, function=function, input_name=input_name)
            for name, (function, input_name) in activities.items()
        },
        entities={"counter": counter},
    )
