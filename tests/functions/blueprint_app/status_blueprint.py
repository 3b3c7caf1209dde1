"""A plain azure.functions Blueprint: an HTTP route that shows the invocation context it receives."""

import json

import azure.functions as func

status = func.Blueprint()


@status.route(route="whoami", methods=["GET"])
def whoami(req: func.HttpRequest, context: func.Context) -> func.HttpResponse:
    body = {
        "function_name": context.function_name,
        "function_directory": context.function_directory,
        "invocation_id": context.invocation_id,
        "trace_parent": context.trace_context.trace_parent,
        "retry_count": context.retry_context.retry_count,
    }
    return func.HttpResponse(json.dumps(body), mimetype="application/json")
