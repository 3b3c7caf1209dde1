import durable_azure as df


def orchestrator_function(context: df.DurableOrchestrationContext):
    value = context.get_input()
    return {"input": value, "type": type(value).__name__}


main = df.Orchestrator.create(orchestrator_function)
