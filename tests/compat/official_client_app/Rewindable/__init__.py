import durable_azure as df


def orchestrator_function(context: df.DurableOrchestrationContext):
    marker = context.get_input()
    return (yield context.call_activity("Flaky", marker))


main = df.Orchestrator.create(orchestrator_function)
