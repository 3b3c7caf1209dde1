import json

import azure.functions as func

import durable_azure as df


async def main(req: func.HttpRequest, starter: str) -> func.HttpResponse:
    client = df.DurableOrchestrationClient(starter)
    response = await client.read_entity_state(df.EntityId("Counter", req.route_params["key"]))
    if not response.entity_exists:
        return func.HttpResponse("no such counter", status_code=404)
    return func.HttpResponse(json.dumps({"total": response.entity_state}), mimetype="application/json")
