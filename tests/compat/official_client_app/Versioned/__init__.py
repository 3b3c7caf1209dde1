import durable_azure as df


def orchestrator_function(context: df.DurableOrchestrationContext):
    return {"version": context.version}


main = df.Orchestrator.create(orchestrator_function)
