"""The app the bindings tests invoke: starters with the client input and output bindings."""

import azure.functions as func

import durable_azure as df

app = df.DFApp(http_auth_level=func.AuthLevel.ANONYMOUS)


@app.route(route="output/start", methods=["POST"])
@app.generic_output_binding(arg_name="starter", type="durableClient")
def output_start(req: func.HttpRequest, starter: func.Out[str]) -> func.HttpResponse:
    starter.set(req.get_body().decode())
    return func.HttpResponse("started", status_code=202)


@app.route(route="output/legacy", methods=["POST"])
@app.generic_output_binding(arg_name="starter", type="orchestrationClient")
def output_legacy(req: func.HttpRequest, starter: func.Out[str]) -> func.HttpResponse:
    starter.set(req.get_json())
    return func.HttpResponse("started", status_code=202)


@app.route(route="wait/{instanceId}", methods=["POST"])
@app.durable_client_input(client_name="client")
async def start_and_wait(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    instance_id = await client.start_new("echo", req.route_params["instanceId"], req.get_json())
    return await client.wait_for_completion_or_create_check_status_response(req, instance_id, 30000, 100)


@app.route(route="gated", methods=["POST"])
@app.durable_client_input(client_name="client")
async def start_gated(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    instance_id = await client.start_new("gated")
    return await client.wait_for_completion_or_create_check_status_response(req, instance_id, 200, 100)


@app.route(route="payload/{instanceId}", methods=["GET"])
@app.durable_client_input(client_name="client", task_hub="%OTHER_HUB%")
async def payload_of_other_hub(req: func.HttpRequest, client) -> dict:
    return client.create_http_management_payload(req.route_params["instanceId"])


@app.route(route="plain", methods=["GET"])
def plain(req: func.HttpRequest) -> str:
    return "hello"


@app.route(route="bad-return", methods=["GET"])
def bad_return(req: func.HttpRequest) -> object:
    return object()


@app.orchestration_trigger(context_name="context")
def echo(context):
    value = context.get_input()
    if value == "fail":
        raise ValueError("asked to fail")
    return value


@app.orchestration_trigger(context_name="context")
def gated(context):
    yield context.wait_for_external_event("open")
    return "opened"
