import durable_azure as df


def orchestrator_function(context: df.DurableOrchestrationContext):
    tally = df.EntityId("Counter", "visits")
    context.signal_entity(tally, "add", 2)
    context.signal_entity(tally, "add", 5)
    total = yield context.call_entity(tally, "get")
    return total


main = df.Orchestrator.create(orchestrator_function)
