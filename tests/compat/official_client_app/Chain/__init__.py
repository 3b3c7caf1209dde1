import durable_azure as df


def orchestrator_function(context: df.DurableOrchestrationContext):
    first = yield context.call_activity("Hello", "Tokyo")
    second = yield context.call_activity("Hello", "Seattle")
    return [first, second]


main = df.Orchestrator.create(orchestrator_function)
