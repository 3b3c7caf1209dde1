"""The app the timer tests index: a timer whose schedule is an app setting, starting an orchestration."""

import azure.functions as func

import durable_azure as df

app = df.DFApp()


@app.timer_trigger(arg_name="timer", schedule="%TIMER_APP_SCHEDULE%", use_monitor=False)
@app.durable_client_input(client_name="client")
async def start_on_schedule(timer: func.TimerRequest, client: df.DurableOrchestrationClient) -> None:
    await client.start_new("ticked", "ticked-once", {"past_due": timer.past_due})


@app.orchestration_trigger(context_name="context")
def ticked(context: df.DurableOrchestrationContext):
    return context.get_input()
