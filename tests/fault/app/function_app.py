"""The app the fault tests run in real worker processes: the sample workloads, small and quick."""

import time
from datetime import timedelta

import azure.functions as func

import durable_azure as df

app = df.DFApp()


@app.orchestration_trigger(context_name="context")
def slow_sequence(context):
    name = context.get_input()
    results = []
    for step in range(4):
        results.append((yield context.call_activity("slow_hello", f"{name}-{step}")))
    return results


@app.orchestration_trigger(context_name="context")
def sequence(context):
    """Input: a name, or [name, seconds each activity takes, how many activities (default 3)]."""
    request = context.get_input() if isinstance(context.get_input(), list) else [context.get_input()]
    name, pause, steps = [*request, 0, 3][:3] if len(request) == 1 else [*request, 3][:3]
    greetings = []
    for step in range(steps):
        greetings.append((yield context.call_activity("hello", [f"{name}-{step}", pause])))
    return greetings


@app.orchestration_trigger(context_name="context")
def fan_out(context):
    """Input: [how many activities, seconds each takes]."""
    count, pause = context.get_input()
    results = yield context.task_all([context.call_activity("double", [n, pause]) for n in range(count)])
    return sum(results)


@app.orchestration_trigger(context_name="context")
def two_events(context):
    first = yield context.wait_for_external_event("Add")
    second = yield context.wait_for_external_event("Add")
    return first + second


@app.orchestration_trigger(context_name="context")
def timer_then_hello(context):
    yield context.create_timer(context.current_utc_datetime + timedelta(seconds=context.get_input()))
    return (yield context.call_activity("hello", "after the timer"))


@app.orchestration_trigger(context_name="context")
def parent_of_sequence(context):
    child = yield context.call_sub_orchestrator("sequence", context.get_input())
    return {"child": child}


@app.activity_trigger(input_name="name")
def slow_hello(name: str) -> str:
    time.sleep(0.3)
    return f"Hello {name}!"


@app.activity_trigger(input_name="request")
def hello(request) -> str:
    name, pause = request if isinstance(request, list) else (request, 0)
    time.sleep(pause)
    return f"Hello {name}!"


@app.activity_trigger(input_name="request")
def double(request) -> int:
    value, pause = request
    time.sleep(pause)
    return value * 2


@app.queue_trigger(arg_name="msg", queue_name="%FAULT_START_QUEUE%", connection="AzureWebJobsStorage")
@app.durable_client_input(client_name="client")
async def start_from_queue(msg: func.QueueMessage, client: df.DurableOrchestrationClient) -> None:
    """Starts made inside a worker process: the worker claims them when it owns their partition."""
    order = msg.get_json()
    await client.start_new(order["orchestrator"], order["id"], order["input"])


@app.entity_trigger(context_name="context")
def counter(context: df.DurableEntityContext) -> None:
    """The counter the entity kill tests increment: `add` adds its input, `get` returns the count."""
    value = context.get_state(lambda: 0)
    if context.operation_name == "add":
        context.set_state(value + context.get_input())
    elif context.operation_name == "get":
        context.set_result(value)


@app.orchestration_trigger(context_name="context")
def signal_counter(context):
    """Input: [entity key, how many `add 1` signals, signals per round]: one sender of the entity's sorter,
    sending its signals in rounds a second apart, so a worker killed at any moment finds some in flight."""
    key, count, per_round = context.get_input()
    sent = 0
    while sent < count:
        for _ in range(min(per_round, count - sent)):
            context.signal_entity(df.EntityId("counter", key), "add", 1)
            sent += 1
        yield context.create_timer(context.current_utc_datetime + timedelta(seconds=1))
    return sent
