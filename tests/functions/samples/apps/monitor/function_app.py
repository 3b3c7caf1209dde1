# Monitor (poll until the weather clears, or give up at expiry), written as for azure.durable_functions;
# only the import differs.
from datetime import timedelta

import azure.functions as func

import durable_azure as df

myApp = df.DFApp(http_auth_level=func.AuthLevel.ANONYMOUS)

checks_made = []
alerts_sent = []


@myApp.route(route="orchestrators/{functionName}", methods=["POST"])
@myApp.durable_client_input(client_name="client")
async def HttpStart(req: func.HttpRequest, client):
    instance_id = await client.start_new(req.route_params["functionName"], None, req.get_json())
    return client.create_check_status_response(req, instance_id)


@myApp.orchestration_trigger(context_name="context")
def E3_Monitor(context: df.DurableOrchestrationContext):
    monitoring_request = context.get_input()
    polling_interval = monitoring_request["pollingIntervalSeconds"]
    expiry_time = context.current_utc_datetime + timedelta(seconds=monitoring_request["expirySeconds"])

    while context.current_utc_datetime < expiry_time:
        is_clear = yield context.call_activity("E3_GetIsClear", monitoring_request["location"])

        if is_clear:
            yield context.call_activity("E3_SendGoodWeatherAlert", monitoring_request["phone"])
            return "alert sent"

        next_check = context.current_utc_datetime + timedelta(seconds=polling_interval)
        yield context.create_timer(next_check)

    return "expired"


@myApp.activity_trigger(input_name="location")
def E3_GetIsClear(location: str):
    # The docs sample asks a weather service; here the sky clears on the third check.
    checks_made.append(location)
    return len(checks_made) >= 3


@myApp.activity_trigger(input_name="phone")
def E3_SendGoodWeatherAlert(phone: str):
    alerts_sent.append(phone)
    return True
