"""An app's orchestrators and activities written against azure.durable_functions, registered without the Functions
face: what the loader makes of an unmodified app (`Registry.sdk_orchestrators`)."""

from __future__ import annotations

import threading
from datetime import timedelta

import azure.durable_functions as df

from durable_azure.protocol import SdkEntity, SdkOrchestrator
from durable_azure.worker import ActivityFunction, Registry

calls: dict[str, int] = {}
_lock = threading.Lock()


def say_hello(city: str) -> str:
    return f"Hello {city}"


def fails_once(key: str) -> str:
    """Fails the first call for each key: a rewind then runs it again, successfully."""
    with _lock:
        calls[key] = calls.get(key, 0) + 1
        count = calls[key]
    if count == 1:
        raise ValueError(f"first call for {key} fails")
    return f"{key} worked on call {count}"


def chaining(context: df.DurableOrchestrationContext):
    cities = context.get_input()
    results = []
    for city in cities:
        results.append((yield context.call_activity("say_hello", city)))
    return results


def fan_out_fan_in(context: df.DurableOrchestrationContext):
    names = yield context.call_sub_orchestrator("chaining", ["Tokyo", "Seattle"])
    greetings = yield context.task_all([context.call_activity("say_hello", name) for name in names])
    context.set_custom_status({"greeted": len(greetings)})
    return greetings


def approval(context: df.DurableOrchestrationContext):
    timeout = context.create_timer(context.current_utc_datetime + timedelta(seconds=context.get_input()))
    answer = context.wait_for_external_event("Approval")
    winner = yield context.task_any([answer, timeout])
    if winner == answer:
        timeout.cancel()
        return {"approved": answer.result}
    return {"approved": None}


def rewindable(context: df.DurableOrchestrationContext):
    return (yield context.call_activity("fails_once", context.get_input()))


def retrying(context: df.DurableOrchestrationContext):
    options = df.RetryOptions(first_retry_interval_in_milliseconds=500, max_number_of_attempts=3)
    return (yield context.call_activity_with_retry("fails_once", options, context.get_input()))


def looping(context: df.DurableOrchestrationContext):
    count = context.get_input()
    if count < 3:
        context.continue_as_new(count + 1)
        return None
    return f"looped to {count}"


def counter(context: df.DurableEntityContext) -> None:
    value = context.get_state(lambda: 0)
    if context.operation_name == "add":
        context.set_state(value + context.get_input())
    elif context.operation_name == "get":
        context.set_result(value)


def counting_up(context: df.DurableOrchestrationContext):
    entity = df.EntityId("counter", context.get_input())
    context.signal_entity(entity, "add", 2)
    value = yield context.call_entity(entity, "get")
    return value


ORCHESTRATORS = {
    name: SdkOrchestrator(name, df.Orchestrator.create(function))
    for name, function in [
        ("chaining", chaining),
        ("fan_out_fan_in", fan_out_fan_in),
        ("approval", approval),
        ("rewindable", rewindable),
        ("looping", looping),
        ("counting_up", counting_up),
        ("retrying", retrying),
    ]
}


def registry() -> Registry:
    activities = {
        name: ActivityFunction(name=name, function=function, input_name="city")
        for name, function in [("say_hello", say_hello), ("fails_once", fails_once)]
    }
    activities["fails_once"] = ActivityFunction(name="fails_once", function=fails_once, input_name="key")
    entities = {"counter": SdkEntity("counter", df.Entity.create(counter))}
    return Registry(sdk_orchestrators=ORCHESTRATORS, activities=activities, entities=entities)
