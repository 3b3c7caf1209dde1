# Human interaction with a timeout (phone verification), written as for azure.durable_functions; only the
# import differs.
from datetime import timedelta

import azure.functions as func

import durable_azure as df

myApp = df.DFApp(http_auth_level=func.AuthLevel.ANONYMOUS)


@myApp.route(route="orchestrators/{functionName}", methods=["POST"])
@myApp.durable_client_input(client_name="client")
async def HttpStart(req: func.HttpRequest, client):
    instance_id = await client.start_new(req.route_params["functionName"], None, req.get_json())
    return client.create_check_status_response(req, instance_id)


@myApp.orchestration_trigger(context_name="context")
def E4_SmsPhoneVerification(context: df.DurableOrchestrationContext):
    request = context.get_input()
    phone_number = request["phoneNumber"]

    challenge_code = yield context.call_activity("SendSmsChallenge", phone_number)

    expiration = context.current_utc_datetime + timedelta(seconds=request.get("timeoutSeconds", 90))
    timeout_task = context.create_timer(expiration)

    authorized = False
    for _ in range(3):
        challenge_response_task = context.wait_for_external_event("SmsChallengeResponse")
        winner = yield context.task_any([challenge_response_task, timeout_task])

        if winner == challenge_response_task:
            # We got back a response! Compare it to the challenge code.
            if challenge_response_task.result == challenge_code:
                authorized = True
                break
        else:
            # Timeout expired
            break

    if not timeout_task.is_completed:
        # All pending timers must be complete or canceled before the function exits.
        timeout_task.cancel()

    return authorized


@myApp.activity_trigger(input_name="phoneNumber")
def SendSmsChallenge(phoneNumber: str):
    # The docs sample texts a random code through Twilio; this one derives it from the number.
    return int(phoneNumber[-4:])
