"""Entities and orchestrations that use them, in the style of the SDK's counter sample (our own code)."""

from __future__ import annotations

from typing import Any

from durable_azure import DurableEntityContext, EntityId, EntityOperationFailedError
from durable_azure.worker.registry import Registry


def counter(context: DurableEntityContext) -> None:
    value = context.get_state(lambda: 0)
    operation = context.operation_name
    if operation == "add":
        context.set_state(value + context.get_input())
    elif operation == "reset":
        context.set_state(0)
    elif operation == "get":
        context.set_result(value)
    elif operation == "add_then_fail":
        context.set_state(value + context.get_input())
        raise ValueError(f"refused to add {context.get_input()}")
    elif operation == "delete":
        context.destruct_on_exit()
    elif operation == "forward":  # add locally and signal another counter
        context.set_state(value + 1)
        context.signal_entity(EntityId("Counter", context.get_input()), "add", 1)
    elif operation == "is_new":
        context.set_result(context.is_newly_constructed)
        context.set_state(value)
    else:
        raise NotImplementedError(f"no operation {operation!r}")


def call_counter(context: Any):
    """Adds the input to a counter with a call, then reads it back."""
    entity = EntityId("Counter", context.get_input()["key"])
    yield context.call_entity(entity, "add", context.get_input()["amount"])
    return (yield context.call_entity(entity, "get"))


def call_failing_operation(context: Any):
    entity = EntityId("Counter", context.get_input())
    yield context.call_entity(entity, "add", 5)
    try:
        yield context.call_entity(entity, "add_then_fail", 100)
    except EntityOperationFailedError as error:
        caught = str(error)
    after = yield context.call_entity(entity, "get")
    return {"caught": caught, "after": after}


def signal_counter(context: Any):
    key = context.get_input()
    for _ in range(10):
        context.signal_entity(EntityId("Counter", key), "add", 1)
    return "sent"


def transfer(context: Any):
    """A critical section over two counters: move 10 from one to the other atomically."""
    source, target = EntityId("Counter", "from"), EntityId("Counter", "to")
    with (yield context.lock([source, target])):
        have = yield context.call_entity(source, "get")
        yield context.call_entity(source, "add", -10)
        yield context.call_entity(target, "add", 10)
    return have


def registry() -> Registry:
    return Registry(
        orchestrators={
            "call_counter": call_counter,
            "call_failing_operation": call_failing_operation,
            "signal_counter": signal_counter,
            "transfer": transfer,
        },
        entities={"counter": counter},
    )
