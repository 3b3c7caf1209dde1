"""A blueprint app on a plain `func.FunctionApp`, as the official blueprint sample lays it out.

The durable functions live on a `df.Blueprint` (orders_blueprint.py), a plain HTTP route on a `func.Blueprint`
(status_blueprint.py), and the app itself is azure.functions' FunctionApp with one function of its own and
one durable function declared through FunctionApp's own durable decorators.
"""

import azure.functions as func
from orders_blueprint import orders
from status_blueprint import status

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)
app.register_functions(orders)
app.register_blueprint(status)


@app.route(route="ping", methods=["GET"])
def ping(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse("pong")


@app.activity_trigger(input_name="text")
def shout(text: str) -> str:
    return text.upper() + "!"
