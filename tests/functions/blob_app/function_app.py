"""The app the blob and table tests run: blob trigger, blob and table bindings on HTTP, blob and activity functions.

Container and table names come from app settings (`%...%`), so each test sets its own and shares nothing.
"""

import json

import azure.functions as func

import durable_azure as df

app = df.DFApp(http_auth_level=func.AuthLevel.ANONYMOUS)
STORAGE = "AzureWebJobsStorage"
FAILURES: list[str] = []
"""Names of the blobs `always_fails` was called for, one entry per attempt."""


@app.blob_trigger(arg_name="blob", path="%WATCHED%/{name}.txt", connection=STORAGE)
@app.blob_output(arg_name="copy", path="%COPIES%/{name}/{rand-guid}.copy", connection=STORAGE)
def copy_blob(blob: func.InputStream, copy: func.Out[str]) -> None:
    text = blob.read().decode()
    copy.set(json.dumps({"name": blob.name, "length": blob.length, "uri": blob.uri, "text": text.upper()}))


@app.blob_trigger(arg_name="data", path="%FAILING%/{name}", connection=STORAGE)
def always_fails(data: bytes) -> None:
    FAILURES.append(data.decode())
    raise RuntimeError("asked to fail")


@app.route(route="files/{name}", methods=["GET"])
@app.blob_input(arg_name="file", path="%INPUTS%/{name}", connection=STORAGE)
def read_file(req: func.HttpRequest, file: func.InputStream | None) -> func.HttpResponse:
    if file is None:
        return func.HttpResponse("missing", status_code=404)
    body = {"name": file.name, "length": file.length, "text": file.read().decode()}
    return func.HttpResponse(json.dumps(body), mimetype="application/json")


@app.route(route="text/{name}", methods=["GET"])
@app.blob_input(arg_name="file", path="%INPUTS%/{name}", connection=STORAGE, data_type="STRING")
def read_text(req: func.HttpRequest, file: str) -> str:
    return f"{type(file).__name__}:{file}"


@app.route(route="upload/{name}", methods=["POST"])
@app.blob_output(arg_name="target", path="%OUTPUTS%/{name}.txt", connection=STORAGE)
def upload(req: func.HttpRequest, target: func.Out[bytes]) -> str:
    target.set(req.get_body())
    return "ok"


@app.route(route="bad-upload", methods=["POST"])
@app.blob_output(arg_name="target", path="%OUTPUTS%/bad.txt", connection=STORAGE)
def bad_upload(req: func.HttpRequest, target: func.Out[str]) -> str:
    target.set(42)  # type: ignore[arg-type]
    return "ok"


@app.route(route="entity/{pk}/{rk}", methods=["GET"])
@app.table_input(arg_name="entity", connection=STORAGE, table_name="%TABLE%", partition_key="{pk}", row_key="{rk}")
def read_entity(req: func.HttpRequest, entity: str | None) -> str:
    return entity if entity is not None else "null"


@app.route(route="query/{pk}", methods=["GET"])
@app.table_input(arg_name="rows", connection=STORAGE, table_name="%TABLE%", partition_key="{pk}", take=2)
def query_two(req: func.HttpRequest, rows: str) -> str:
    return rows


@app.route(route="filter", methods=["GET"])
@app.table_input(arg_name="rows", connection=STORAGE, table_name="%TABLE%", filter="Score gt 5")
def query_filter(req: func.HttpRequest, rows: str) -> str:
    return rows


@app.route(route="save", methods=["POST"])
@app.table_output(arg_name="rows", connection=STORAGE, table_name="%TABLE%", partition_key="default")
def save(req: func.HttpRequest, rows: func.Out[str]) -> str:
    rows.set(req.get_body().decode())
    return "saved"


@app.orchestration_trigger(context_name="context")
def write_report(context: df.DurableOrchestrationContext):
    result = yield context.call_activity("report", context.get_input())
    return result


@app.activity_trigger(input_name="text")
@app.blob_output(arg_name="report_blob", path="%REPORTS%/{rand-guid}.txt", connection=STORAGE)
def report(text: str, report_blob: func.Out[str]) -> str:
    report_blob.set(f"report: {text}")
    return "written"


@app.route(route="untyped/{name}", methods=["GET"])
@app.blob_input(arg_name="file", path="%INPUTS%/{name}", connection=STORAGE, data_type="BINARY")
def read_untyped(req: func.HttpRequest, file) -> str:
    return type(file).__name__
