import durable_azure as df


def orchestrator_function(context: df.DurableOrchestrationContext):
    """The binding string an activity with a durableClient binding receives."""
    return (yield context.call_activity("ClientBinding", None))


main = df.Orchestrator.create(orchestrator_function)
