"""An app that still imports azure.durable_functions, run by killed and restarted workers (test_kill_unmodified)."""

import time

import azure.durable_functions as df

app = df.DFApp()


@app.orchestration_trigger(context_name="context")
def slow_sequence(context: df.DurableOrchestrationContext):
    name = context.get_input()
    results = []
    for step in range(4):
        results.append((yield context.call_activity("slow_hello", f"{name}-{step}")))
    return results


@app.activity_trigger(input_name="name")
def slow_hello(name: str) -> str:
    time.sleep(0.3)
    return f"Hello {name}!"
