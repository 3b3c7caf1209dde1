import azure.durable_functions as df


def orchestrator_function(context: df.DurableOrchestrationContext):
    greeting = context.get_input() or {}
    results = []
    for city in greeting.get("cities", []):
        results.append((yield context.call_activity("SayHello", city)))
    return results


main = df.Orchestrator.create(orchestrator_function)
