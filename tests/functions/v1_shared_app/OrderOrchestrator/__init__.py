import shared_code.orders

import durable_azure as df


def orchestrator_function(context: df.DurableOrchestrationContext):
    order = context.get_input()
    total = yield context.call_activity("PriceOrder", order["items"])
    described = yield context.call_activity("DescribeInvocation", order["customer"])
    return {
        "total": total,
        "described": described,
        "absolute_import": shared_code.orders.__name__,
    }


main = df.Orchestrator.create(orchestrator_function)
