"""The app the fault tests run in real worker processes."""

import time

import durable_azure as df

app = df.DFApp()


@app.orchestration_trigger(context_name="context")
def slow_sequence(context):
    name = context.get_input()
    results = []
    for step in range(4):
        results.append((yield context.call_activity("slow_hello", f"{name}-{step}")))
    return results


@app.activity_trigger(input_name="name")
def slow_hello(name: str) -> str:
    time.sleep(0.3)
    return f"Hello {name}!"
