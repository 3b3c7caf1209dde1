"""Sample Durable Functions app, written as for Azure Durable Functions (Python v2 model).

Only the import differs from an Azure Durable Functions app: `import durable_azure as df`.
Start the worker with `./run.sh`, then `./run.sh start-new --function-name hello_sequence`.
"""

from datetime import timedelta

import durable_azure as df

app = df.DFApp()


@app.orchestration_trigger(context_name="context")
def hello_sequence(context: df.DurableOrchestrationContext):
    """Function chaining: three activities, one after the other."""
    results = []
    for city in ("Tokyo", "Seattle", "London"):
        results.append((yield context.call_activity("say_hello", city)))
    return results


@app.activity_trigger(input_name="city")
def say_hello(city: str) -> str:
    return f"Hello {city}!"


@app.orchestration_trigger(context_name="context")
def fan_out_fan_in(context: df.DurableOrchestrationContext):
    """Fan out: one activity per item, all in parallel; fan in: wait for all of them, then aggregate."""
    count = context.get_input() or 5
    tasks = [context.call_activity("square", number) for number in range(1, count + 1)]
    squares = yield context.task_all(tasks)
    return sum(squares)


@app.activity_trigger(input_name="number")
def square(number: int) -> int:
    return number * number


@app.orchestration_trigger(context_name="context")
def approval(context: df.DurableOrchestrationContext):
    """Human interaction: wait for an "Approval" event, or give up after a day.

    Raise the event with the client's raise_event(instance_id, "Approval", true).
    """
    deadline = context.current_utc_datetime + timedelta(days=1)
    timeout = context.create_timer(deadline)
    approval_event = context.wait_for_external_event("Approval")
    winner = yield context.task_any([approval_event, timeout])
    if winner == approval_event:
        timeout.cancel()
        return "approved" if approval_event.result else "rejected"
    return "timed out"


@app.orchestration_trigger(context_name="context")
def countdown(context: df.DurableOrchestrationContext):
    """Eternal-orchestration style: restart with a smaller input until it reaches zero (continue_as_new)."""
    remaining = context.get_input() or 0
    if remaining <= 0:
        return "done"
    yield context.call_activity("say_hello", f"countdown {remaining}")
    context.continue_as_new(remaining - 1)
    return None
