"""Sample Durable Functions app, written as for Azure Durable Functions (Python v2 model).

Only the import differs from an Azure Durable Functions app: `import durable_azure as df`.
Run it with `./run.sh start` and follow the README's Quickstart: every function below has a `curl` there.
"""

import json
import logging
from datetime import UTC, datetime, timedelta

import azure.functions as func

import durable_azure as df

app = df.DFApp(http_auth_level=func.AuthLevel.ANONYMOUS)


# -- HTTP starters --


@app.route(route="orchestrators/{functionName}", methods=["POST"])
@app.durable_client_input(client_name="client")
async def http_start(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    """Start any orchestrator (JSON body = its input) and answer 202 with the check-status links."""
    body = req.get_body()
    client_input = json.loads(body) if body else None
    instance_id = await client.start_new(req.route_params["functionName"], None, client_input)
    return client.create_check_status_response(req, instance_id)


@app.route(route="node-style/start", methods=["POST"])
@app.generic_output_binding(arg_name="starter", type="orchestrationClient")
def node_style_start(req: func.HttpRequest, starter: func.Out[str]) -> func.HttpResponse:
    """Start orchestrations the way a Node app does: set the output binding to [{FunctionName, Input, InstanceId}].

    The request body is passed through as the payload, so try a list of several starts, or a bad one.
    """
    starter.set(req.get_body().decode())
    return func.HttpResponse("Started.", status_code=202)


@app.route(route="status/{instanceId}", methods=["GET"])
@app.durable_client_input(client_name="client")
async def get_status(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    """The status of one instance, through the durableClient input binding (404 when it does not exist)."""
    status = await client.get_status(req.route_params["instanceId"])
    if not status:
        return func.HttpResponse("No such instance.", status_code=404)
    return func.HttpResponse(json.dumps(status.to_json()), mimetype="application/json")


# -- orchestrations --


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
    """Human interaction: wait for an "Approval" event (true or false), or time out.

    Input: the timeout in seconds (default one day).
    """
    deadline = context.current_utc_datetime + timedelta(seconds=context.get_input() or 86400)
    timeout = context.create_timer(deadline)
    approval_event = context.wait_for_external_event("Approval")
    winner = yield context.task_any([approval_event, timeout])
    if winner == approval_event:
        timeout.cancel()
        return "approved" if approval_event.result else "rejected"
    return "timed out"


@app.orchestration_trigger(context_name="context")
def long_running(context: df.DurableOrchestrationContext):
    """A job that checks in every minute for a day: terminate, suspend or resume it."""
    for step in range(24 * 60):
        context.set_custom_status({"step": step})
        yield context.create_timer(context.current_utc_datetime + timedelta(minutes=1))
    return "finished"


@app.orchestration_trigger(context_name="context")
def countdown(context: df.DurableOrchestrationContext):
    """Eternal-orchestration style: restart with a smaller input until it reaches zero (continue_as_new)."""
    remaining = context.get_input() or 0
    if remaining <= 0:
        return "done"
    yield context.call_activity("say_hello", f"countdown {remaining}")
    context.continue_as_new(remaining - 1)
    return None


# -- starters that are not HTTP: a schedule and a queue --


@app.timer_trigger(arg_name="timer", schedule="0 0 3 * * *")
@app.durable_client_input(client_name="client")
async def nightly_purge(timer: func.TimerRequest, client: df.DurableOrchestrationClient) -> None:
    """Every day at 03:00 UTC: purge the history of instances that ended more than a week ago.

    Runs on one process only, however many run the app; after downtime a missed 03:00 runs once at start-up,
    with `timer.past_due` set.
    """
    week_ago = datetime.now(UTC) - timedelta(days=7)
    result = await client.purge_instance_history_by(
        created_time_to=week_ago,
        runtime_status=[df.OrchestrationRuntimeStatus.Completed, df.OrchestrationRuntimeStatus.Terminated],
    )
    logging.info("nightly_purge: %d instances purged (past due: %s)", result.instances_deleted, timer.past_due)


@app.route(route="queue/fan-out", methods=["POST"])
@app.queue_output(arg_name="requests", queue_name="fan-out-requests", connection="AzureWebJobsStorage")
def enqueue_fan_out(req: func.HttpRequest, requests: func.Out[str]) -> func.HttpResponse:
    """Put a fan-out request (JSON body: the item count) on the "fan-out-requests" queue; the queue trigger
    below starts the orchestration."""
    requests.set(json.dumps({"count": int(req.params.get("count", "5"))}))
    return func.HttpResponse("Queued.", status_code=202)


@app.queue_trigger(arg_name="message", queue_name="fan-out-requests", connection="AzureWebJobsStorage")
@app.durable_client_input(client_name="client")
async def fan_out_from_queue(message: func.QueueMessage, client: df.DurableOrchestrationClient) -> None:
    """Each message on "fan-out-requests" starts fan_out_fan_in. The message is deleted only once the start
    succeeded; a failing one is retried, then moved to the "fan-out-requests-poison" queue."""
    instance_id = await client.start_new("fan_out_fan_in", None, message.get_json()["count"])
    logging.info("fan_out_from_queue: message %s started %s", message.id, instance_id)
