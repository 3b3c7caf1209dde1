# Fan-out/fan-in (a site backup that sums file sizes), written as for azure.durable_functions; only the
# import differs.
import os
import pathlib

import azure.functions as func

import durable_azure as df

myApp = df.DFApp(http_auth_level=func.AuthLevel.ANONYMOUS)


@myApp.route(route="orchestrators/{functionName}", methods=["POST"])
@myApp.durable_client_input(client_name="client")
async def HttpStart(req: func.HttpRequest, client):
    payload = req.get_json()
    instance_id = await client.start_new(req.route_params["functionName"], client_input=payload)
    return client.create_check_status_response(req, instance_id)


@myApp.orchestration_trigger(context_name="context")
def E2_BackupSiteContent(context: df.DurableOrchestrationContext):
    root_directory: str = context.get_input()

    if not root_directory:
        raise Exception("A directory path is required as input")

    files = yield context.call_activity("E2_GetFileList", root_directory)
    tasks = []
    for file in files:
        tasks.append(context.call_activity("E2_CopyFileToBlob", file))

    results = yield context.task_all(tasks)
    total_bytes = sum(results)
    return total_bytes


@myApp.activity_trigger(input_name="rootDirectory")
def E2_GetFileList(rootDirectory):
    all_file_paths = []
    for path, _, files in os.walk(rootDirectory):
        for name in files:
            all_file_paths.append(os.path.join(path, name))
    return sorted(all_file_paths)


@myApp.activity_trigger(input_name="filePath")
def E2_CopyFileToBlob(filePath):
    # The docs sample uploads the file to blob storage here; this one only measures it.
    return pathlib.Path(filePath).stat().st_size
