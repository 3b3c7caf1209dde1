"""Durable functions on a `df.Blueprint`: an HTTP starter, an orchestrator and its activities."""

import azure.functions as func

import durable_azure as df

orders = df.Blueprint()


@orders.route(route="orders/{customer}", methods=["POST"])
@orders.durable_client_input(client_name="client")
async def start_order(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    order = {"customer": req.route_params["customer"], "items": req.get_json()}
    instance_id = await client.start_new("process_order", None, order)
    return client.create_check_status_response(req, instance_id)


@orders.orchestration_trigger(context_name="context")
def process_order(context: df.DurableOrchestrationContext):
    order = context.get_input()
    total = yield context.call_activity(price_items, order["items"])
    greeting = yield context.call_activity("shout", f"thanks {order['customer']}")
    return {"total": total, "greeting": greeting}


@orders.activity_trigger(input_name="items")
def price_items(items: list) -> int:
    return sum(item["quantity"] * item["price"] for item in items)


@orders.orchestration_trigger(context_name="context", orchestration="inspect_invocations")
def inspect(context: df.DurableOrchestrationContext):
    described = yield context.call_activity("describe_invocation", "from an orchestration")
    own_status = yield context.call_activity("read_own_status", context.instance_id)
    return {"described": described, "own_status": own_status}


@orders.activity_trigger(input_name="note")
def describe_invocation(note: str, context: func.Context) -> dict:
    return {
        "note": note,
        "function_name": context.function_name,
        "function_directory": context.function_directory,
        "invocation_id": context.invocation_id,
        "thread_invocation_id": getattr(context.thread_local_storage, "invocation_id", None),
    }


@orders.activity_trigger(input_name="instance_id")
@orders.durable_client_input(client_name="client")
async def read_own_status(instance_id: str, client: df.DurableOrchestrationClient) -> str:
    status = await client.get_status(instance_id)
    return status.runtime_status.value
