"""The app the host tests serve: written for azure.durable_functions, with only the import changed."""

import json
import logging

import azure.functions as func

import durable_azure as df

app = df.DFApp(http_auth_level=func.AuthLevel.FUNCTION)


@app.route(route="orchestrators/{functionName}", methods=["POST"])
@app.durable_client_input(client_name="client")
async def http_start(req: func.HttpRequest, client) -> func.HttpResponse:
    function_name = req.route_params.get("functionName")
    body = req.get_body()
    instance_id = await client.start_new(function_name, None, json.loads(body) if body else None)
    logging.info("started %s", instance_id)
    return client.create_check_status_response(req, instance_id)


@app.route(route="ping", auth_level=func.AuthLevel.ANONYMOUS, methods=["GET"])
def ping(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse(json.dumps({"pong": req.params.get("name")}), mimetype="application/json")


@app.route(route="items/{id:int}", auth_level=func.AuthLevel.ANONYMOUS, methods=["GET"])
def item(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse(f"item {req.route_params['id']}")


@app.route(route="admin-only", auth_level=func.AuthLevel.ADMIN)
def admin_only(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse("admin ok")


@app.route(route="crash", auth_level=func.AuthLevel.ANONYMOUS)
def crash(req: func.HttpRequest) -> func.HttpResponse:
    raise RuntimeError("the secret sauce is missing")


@app.route(route="bad-output", auth_level=func.AuthLevel.ANONYMOUS, methods=["POST"])
@app.generic_output_binding(arg_name="starter", type="durableClient")
def bad_output(req: func.HttpRequest, starter: func.Out[str]) -> func.HttpResponse:
    starter.set(json.dumps([{"Input": 1}]))
    return func.HttpResponse("should not get here", status_code=202)


@app.orchestration_trigger(context_name="context")
def hello_sequence(context: df.DurableOrchestrationContext):
    results = []
    for city in ["Tokyo", "Seattle", "London"]:
        results.append((yield context.call_activity("say_hello", city)))
    return results


@app.orchestration_trigger(context_name="context")
def wait_for_approval(context: df.DurableOrchestrationContext):
    approval = yield context.wait_for_external_event("Approval")
    return {"approved": approval}


@app.orchestration_trigger(context_name="context")
def fail_until_rewound(context: df.DurableOrchestrationContext):
    return (yield context.call_activity("flaky", context.instance_id))


@app.activity_trigger(input_name="city")
def say_hello(city: str) -> str:
    return f"Hello {city}!"


_attempts: dict[str, int] = {}


@app.activity_trigger(input_name="key")
def flaky(key: str) -> str:
    _attempts[key] = _attempts.get(key, 0) + 1
    if _attempts[key] == 1:
        raise ValueError("first attempt fails")
    return f"attempt {_attempts[key]}"


class Ticket:
    """A custom input type, serialized as the public serialize_arguments sample does (static to_json/from_json)."""

    def __init__(self, number: int) -> None:
        self.number = number

    @staticmethod
    def to_json(obj: "Ticket") -> str:
        return str(obj.number)

    @staticmethod
    def from_json(text: str) -> "Ticket":
        return Ticket(int(text))


@app.entity_trigger(context_name="context")
def counter(context: df.DurableEntityContext):
    value = context.get_state(lambda: 0)
    operation = context.operation_name
    if operation == "add":
        context.set_state(value + context.get_input())
    elif operation == "delete":
        context.destruct_on_exit()
    else:
        raise ValueError(f"counter has no operation {operation!r}")


@app.entity_trigger(context_name="context", entity_name="Recorder")
def recorder(context: df.DurableEntityContext):
    """Keeps what its last operation received, to show what a signal delivered."""
    received = context.get_input()
    context.set_state({"operation": context.operation_name, "input": received, "type": type(received).__name__})


@app.entity_trigger(context_name="context")
def tally(context: df.DurableEntityContext):
    """Only the listing test uses this name, so it can count what it lists."""
    context.set_state(context.get_state(lambda: 0) + 1)
