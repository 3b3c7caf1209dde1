import azure.functions as func


def main(req: func.HttpRequest, starter: str) -> func.HttpResponse:
    """The binding string as this host hands it to a function, for a client built outside the host."""
    return func.HttpResponse(starter, mimetype="application/json")
