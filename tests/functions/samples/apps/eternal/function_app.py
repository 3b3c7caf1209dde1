# Eternal orchestration (periodic clean-up), written as for azure.durable_functions; only the import differs.
from datetime import timedelta

import azure.functions as func

import durable_azure as df

myApp = df.DFApp(http_auth_level=func.AuthLevel.ANONYMOUS)

cleanups = []


@myApp.route(route="orchestrators/{functionName}", methods=["POST"])
@myApp.durable_client_input(client_name="client")
async def HttpStart(req: func.HttpRequest, client):
    instance_id = await client.start_new(req.route_params["functionName"], None, 0)
    return client.create_check_status_response(req, instance_id)


@myApp.orchestration_trigger(context_name="context")
def Periodic_Cleanup_Loop(context: df.DurableOrchestrationContext):
    iteration = context.get_input() or 0
    yield context.call_activity("Do_Cleanup", iteration)

    # The docs sample sleeps an hour between rounds.
    next_cleanup = context.current_utc_datetime + timedelta(seconds=1)
    yield context.create_timer(next_cleanup)

    context.continue_as_new(iteration + 1)


@myApp.activity_trigger(input_name="iteration")
def Do_Cleanup(iteration: int):
    cleanups.append(iteration)
    return iteration
