"""The app the queue trigger and queue output tests run: queue names come from app settings set per test."""

import asyncio
import json

import azure.functions as func

import durable_azure as df

app = df.DFApp(http_auth_level=func.AuthLevel.ANONYMOUS)

STORAGE = "AzureWebJobsStorage"
SLOW_SECONDS = {"value": 0.3}
"""How long `slow` takes; a test may change it."""


@app.queue_trigger(arg_name="msg", queue_name="%START_QUEUE%", connection=STORAGE)
@app.durable_client_input(client_name="client")
async def start_with_client(msg: func.QueueMessage, client: df.DurableOrchestrationClient) -> None:
    order = msg.get_json()
    await client.start_new("echo", order["id"], order["input"])


@app.queue_trigger(arg_name="msg", queue_name="%OUTPUT_START_QUEUE%", connection=STORAGE)
@app.generic_output_binding(arg_name="$return", type="durableClient")
def start_with_output(msg: str) -> dict:
    order = json.loads(msg)
    return {"FunctionName": "echo", "InstanceId": order["id"], "Input": order["input"]}


@app.queue_trigger(arg_name="msg", queue_name="%OUT_START_QUEUE%", connection=STORAGE)
@app.generic_output_binding(arg_name="starter", type="orchestrationClient")
def start_with_out(msg: str, starter: func.Out[str]) -> None:
    order = json.loads(msg)
    starter.set(json.dumps({"FunctionName": "echo", "InstanceId": order["id"], "Input": order["input"]}))


@app.queue_trigger(arg_name="msg", queue_name="%METADATA_QUEUE%", connection=STORAGE)
@app.queue_output(arg_name="record", queue_name="%RECORD_QUEUE%", connection=STORAGE)
def record_metadata(msg: func.QueueMessage, record: func.Out[str]) -> None:
    def when(moment):
        return moment.isoformat() if moment is not None else None

    record.set(
        json.dumps(
            {
                "id": msg.id,
                "body": msg.get_body().decode(),
                "dequeue_count": msg.dequeue_count,
                "expiration_time": when(msg.expiration_time),
                "insertion_time": when(msg.insertion_time),
                "time_next_visible": when(msg.time_next_visible),
                "pop_receipt": msg.pop_receipt,
            }
        )
    )


@app.queue_trigger(arg_name="msg", queue_name="%TEXT_QUEUE%", connection=STORAGE)
@app.queue_output(arg_name="$return", queue_name="%RECORD_QUEUE%", connection=STORAGE)
def as_text(msg: str) -> str:
    return f"{type(msg).__name__}:{msg}"


@app.queue_trigger(arg_name="msg", queue_name="%BYTES_QUEUE%", connection=STORAGE, data_type="binary")
@app.queue_output(arg_name="$return", queue_name="%RECORD_QUEUE%", connection=STORAGE)
def as_bytes(msg: bytes) -> bytes:
    return type(msg).__name__.encode() + b":" + msg


@app.queue_trigger(arg_name="msg", queue_name="%JSON_QUEUE%", connection=STORAGE)
@app.queue_output(arg_name="$return", queue_name="%RECORD_QUEUE%", connection=STORAGE)
def as_json(msg: dict) -> dict:
    return {"type": type(msg).__name__, "value": msg}


@app.queue_trigger(arg_name="msg", queue_name="%ROUTED_QUEUE%", connection=STORAGE)
@app.queue_output(arg_name="$return", queue_name="{target}", connection=STORAGE)
def routed(msg: func.QueueMessage) -> str:
    """The output queue is the body's `target` property: JSON body properties are binding data."""
    return msg.get_json()["text"]


@app.queue_trigger(arg_name="msg", queue_name="%FAIL_QUEUE%", connection=STORAGE)
def always_fails(msg: func.QueueMessage) -> None:
    raise RuntimeError(f"cannot handle {msg.id}")


@app.queue_trigger(arg_name="msg", queue_name="%SLOW_QUEUE%", connection=STORAGE)
@app.queue_output(arg_name="$return", queue_name="%RECORD_QUEUE%", connection=STORAGE)
async def slow(msg: str) -> str:
    await asyncio.sleep(SLOW_SECONDS["value"])
    return msg


@app.route(route="notify", methods=["POST"])
@app.queue_output(arg_name="messages", queue_name="%HTTP_OUT_QUEUE%", connection=STORAGE)
def notify(req: func.HttpRequest, messages: func.Out[list]) -> func.HttpResponse:
    messages.set(req.get_json())
    return func.HttpResponse("queued", status_code=202)


@app.orchestration_trigger(context_name="context")
def echo(context):
    return context.get_input()


@app.orchestration_trigger(context_name="context")
def announce(context):
    return (yield context.call_activity("send_announcement", context.get_input()))


@app.activity_trigger(input_name="text")
@app.queue_output(arg_name="out", queue_name="%ACTIVITY_OUT_QUEUE%", connection=STORAGE)
def send_announcement(text: str, out: func.Out[str]) -> str:
    out.set(f"announced {text}")
    return "sent"


@app.route(route="emit", methods=["POST"])
@app.queue_output(arg_name="out", queue_name="%EMIT_QUEUE%", connection=STORAGE)
def emit(req: func.HttpRequest, out: func.Out[str]) -> func.HttpResponse:
    """Sets the output to the value shape the request names: each shape the queue output accepts, and bad ones."""
    shapes = {
        "text": lambda: "plain",
        "bytes": lambda: b"\x00\xffraw",
        "dict": lambda: {"a": 1},
        "message": lambda: func.QueueMessage(id="ignored", body="the body"),
        "list": lambda: ["one", b"two", {"three": 3}, func.QueueMessage(body="four")],
        "none": lambda: None,
        "empty": lambda: [],
        "number": lambda: 5,
        "bad-entry": lambda: ["fine", 5],
        "huge": lambda: "x" * 70_000,
    }
    out.set(shapes[req.get_json()["shape"]]())
    return func.HttpResponse("ok")
