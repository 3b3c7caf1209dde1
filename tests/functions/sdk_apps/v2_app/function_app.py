"""An app written for azure.durable_functions, run unchanged: a starter, a chain, a fan-out/fan-in, activities."""

import json

import azure.durable_functions as df
import azure.functions as func

myApp = df.DFApp(http_auth_level=func.AuthLevel.ANONYMOUS)


@myApp.route(route="orchestrators/{functionName}")
@myApp.durable_client_input(client_name="client")
async def http_start(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    function_name = req.route_params.get("functionName")
    body = req.get_body()
    payload = req.get_json() if body else None
    instance_id = await client.start_new(function_name, None, payload)
    return client.create_check_status_response(req, instance_id)


@myApp.route(route="status/{instanceId}", methods=["GET"])
@myApp.durable_client_input(client_name="client")
async def read_status(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    """What the official client's get_status reports, as JSON (the test compares it with the HTTP API's)."""
    status = await client.get_status(req.route_params["instanceId"])
    summary = {
        "name": status.name,
        "runtimeStatus": status.runtime_status.value if status.runtime_status else None,
        "input": status.input_,
        "output": status.output,
    }
    return func.HttpResponse(json.dumps(summary), mimetype="application/json")


@myApp.orchestration_trigger(context_name="context")
def travel_chain(context: df.DurableOrchestrationContext):
    first = yield context.call_activity("hello", "Tokyo")
    second = yield context.call_activity("hello", "Seattle")
    third = yield context.call_activity("hello", "London")
    return [first, second, third]


@myApp.orchestration_trigger(context_name="context")
def word_lengths(context: df.DurableOrchestrationContext):
    words = context.get_input() or []
    tasks = [context.call_activity("measure", word) for word in words]
    lengths = yield context.task_all(tasks)
    return {"total": sum(lengths), "lengths": lengths}


@myApp.activity_trigger(input_name="city")
def hello(city: str) -> str:
    return f"Hello {city}!"


@myApp.activity_trigger(input_name="word")
def measure(word: str) -> int:
    return len(word)


@myApp.route(route="events/{instanceId}/{eventName}", methods=["POST"])
@myApp.durable_client_input(client_name="client")
async def send_event(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    await client.raise_event(req.route_params["instanceId"], req.route_params["eventName"], req.get_json())
    return func.HttpResponse(status_code=202)


@myApp.orchestration_trigger(context_name="context")
def wait_for_approval(context: df.DurableOrchestrationContext):
    decision = yield context.wait_for_external_event("Approval")
    return {"decision": decision, "input": context.get_input()}


@myApp.route(route="manage/{instanceId}/{action}", methods=["POST"])
@myApp.durable_client_input(client_name="client")
async def manage(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    """Instance control through the official client: suspend, resume, terminate, purge."""
    instance_id, action = req.route_params["instanceId"], req.route_params["action"]
    if action == "purge":
        result = await client.purge_instance_history(instance_id)
        return func.HttpResponse(json.dumps({"deleted": result.instances_deleted}), mimetype="application/json")
    await getattr(client, action)(instance_id, f"{action} from the official client")
    return func.HttpResponse(status_code=202)


@myApp.entity_trigger(context_name="context", entity_name="Tally")
def tally(context: df.DurableEntityContext) -> None:
    total = context.get_state(lambda: 0)
    if context.operation_name == "add":
        context.set_state(total + context.get_input())


@myApp.route(route="tally/{key}", methods=["POST", "GET"])
@myApp.durable_client_input(client_name="client")
async def tally_route(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    """POST {"add": n}: signal the entity through the official client; GET: its state, read the same way."""
    entity = df.EntityId("Tally", req.route_params["key"])
    if req.method == "POST":
        await client.signal_entity(entity, "add", req.get_json()["add"])
        return func.HttpResponse(status_code=202)
    state = await client.read_entity_state(entity)
    body = {"exists": state.entity_exists, "state": state.entity_state}
    return func.HttpResponse(json.dumps(body), mimetype="application/json")
