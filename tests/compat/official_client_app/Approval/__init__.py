import durable_azure as df


def orchestrator_function(context: df.DurableOrchestrationContext):
    context.set_custom_status("waiting for approval")
    approval = yield context.wait_for_external_event("Approval")
    context.set_custom_status("approved")
    return {"approval": approval, "type": type(approval).__name__}


main = df.Orchestrator.create(orchestrator_function)
