import azure.functions as func

import durable_azure as df

from ..shared_code.orders import parse_order


async def main(req: func.HttpRequest, starter: str) -> func.HttpResponse:
    client = df.DurableOrchestrationClient(starter)
    order = parse_order(req.route_params["customer"], req.get_json())
    instance_id = await client.start_new("OrderOrchestrator", None, order)
    return client.create_check_status_response(req, instance_id)
