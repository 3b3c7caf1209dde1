"""A timer function that never returns (a sync call stuck forever), for the host's second-Ctrl-C test."""

import threading

import azure.functions as func

import durable_azure as df

app = df.DFApp(http_auth_level=func.AuthLevel.ANONYMOUS)
stuck = threading.Event()


@app.timer_trigger(arg_name="timer", schedule="0 0 0 1 1 *", run_on_startup=True, use_monitor=False)
def hangs(timer: func.TimerRequest) -> None:
    print("hangs: started", flush=True)
    stuck.wait()
