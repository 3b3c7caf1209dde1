"""Blob input and output bindings on HTTP functions and activities, against Azurite (tests/functions/blob_app)."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from durable_azure.azure_storage import StorageAccount, TaskHub
from durable_azure.errors import ConfigurationError, FunctionInvocationError
from durable_azure.functions.bindings import check_function
from durable_azure.functions.bound_activities import registry_with_bindings
from durable_azure.worker import Worker
from tests.functions.harness import RunningApp, body_json, running_app
from tests.worker.conftest import TEST_SETTINGS

APP_DIR = Path(__file__).parent / "blob_app"
SETTINGS = ("WATCHED", "COPIES", "FAILING", "INPUTS", "OUTPUTS", "REPORTS")


def unique_names(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Fresh container names for the app's `%...%` settings, so tests share nothing."""
    names = {setting: f"{setting.lower()}-{uuid.uuid4().hex[:12]}" for setting in SETTINGS}
    names["TABLE"] = f"t{uuid.uuid4().hex[:16]}"
    for setting, value in names.items():
        monkeypatch.setenv(setting, value)
    return names


@pytest.fixture
def names(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    return unique_names(monkeypatch)


@pytest_asyncio.fixture
async def app(task_hub: TaskHub, names: dict[str, str]) -> AsyncIterator[RunningApp]:
    async with running_app(APP_DIR, task_hub, with_worker=False) as running:
        yield running


async def test_blob_input_reads_the_route_named_blob(
    app: RunningApp, names: dict[str, str], storage_account: StorageAccount
) -> None:
    await storage_account.blobs.create_container(names["INPUTS"])
    await storage_account.blobs.put(names["INPUTS"], "a/b.txt", b"hello")
    response = await app.call("read_file", method="GET", route_params={"name": "a/b.txt"})
    assert body_json(response) == {"name": f"{names['INPUTS']}/a/b.txt", "length": 5, "text": "hello"}
    text = await app.call("read_text", method="GET", route_params={"name": "a/b.txt"})
    assert text.get_body() == b"str:hello"
    untyped = await app.call("read_untyped", method="GET", route_params={"name": "a/b.txt"})
    assert untyped.get_body() == b"bytes"


async def test_missing_input_blob_is_none(app: RunningApp, names: dict[str, str]) -> None:
    response = await app.call("read_file", method="GET", route_params={"name": "nothing-here"})
    assert (response.status_code, response.get_body()) == (404, b"missing")


async def test_output_creates_the_container_and_binds_the_route_name(
    app: RunningApp, names: dict[str, str], storage_account: StorageAccount
) -> None:
    response = await app.call("upload", route_params={"name": "report"}, body={"n": 1})
    assert response.get_body() == b"ok"
    blob = await storage_account.blobs.get(names["OUTPUTS"], "report.txt")
    assert blob is not None and json.loads(blob.data) == {"n": 1}


async def test_bad_output_value_fails_naming_the_binding(app: RunningApp, storage_account: StorageAccount) -> None:
    with pytest.raises(FunctionInvocationError, match=r"output binding 'target'.*not int"):
        await app.call("bad_upload")


def test_path_without_container_or_with_expression_container_is_refused() -> None:
    trigger = {"type": "httpTrigger", "name": "req", "direction": "in"}
    for path in (None, "", "only-a-container", "{name}/file.txt"):
        blob = {"type": "blob", "name": "file", "direction": "in", "path": path}
        with pytest.raises(ConfigurationError, match=r"function 'f'.*binding 'file'"):
            check_function("f", [trigger, blob])


async def test_activity_with_blob_output_writes_after_it_returns(
    task_hub: TaskHub, names: dict[str, str], storage_account: StorageAccount
) -> None:
    async with running_app(APP_DIR, task_hub, with_worker=False) as running:
        worker = Worker(task_hub, registry_with_bindings(running.index, running.services), TEST_SETTINGS)
        await worker.start()
        try:
            instance_id = await running.client.start_new("write_report", None, "q3")
            status = await running.client.wait_for_completion(instance_id, timeout=60)
        finally:
            await worker.stop(timeout=5)
    assert status.output == "written"
    items = await storage_account.blobs.list_blobs(names["REPORTS"])
    assert len(items) == 1 and items[0].name.endswith(".txt")
    blob = await storage_account.blobs.get(names["REPORTS"], items[0].name)
    assert blob is not None and blob.data == b"report: q3"
