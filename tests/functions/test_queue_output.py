"""The queue output binding on Azurite: value shapes, encodings, queue creation, HTTP and activity functions."""

from __future__ import annotations

import base64
import contextlib
import json
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from azure.core.exceptions import ResourceNotFoundError
from azure.storage.queue import BinaryBase64DecodePolicy, QueueClient, TextBase64EncodePolicy

from durable_azure.azure_storage import TaskHub
from durable_azure.errors import ConfigurationError, FunctionInvocationError
from durable_azure.functions.bindings import check_function
from durable_azure.functions.bound_activities import registry_with_bindings
from durable_azure.worker import Worker
from tests.functions.harness import RunningApp, running_app
from tests.functions.queue_support import APP_DIR, Queues, completed, eventually, listening
from tests.worker.conftest import TEST_SETTINGS


@pytest_asyncio.fixture
async def app(task_hub: TaskHub) -> AsyncIterator[RunningApp]:
    async with running_app(APP_DIR, task_hub, with_worker=False) as running:
        yield running


@pytest_asyncio.fixture
async def queues(task_hub: TaskHub, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Queues]:
    created = Queues(task_hub.account, monkeypatch)
    yield created
    await created.delete_all()


async def test_an_http_function_sends_one_message_per_list_entry_creating_the_queue(
    app: RunningApp, queues: Queues
) -> None:
    queue = queues.name("HTTP_OUT_QUEUE")
    response = await app.call("notify", body=["first", "second", "third"])
    assert response.status_code == 202
    assert await queues.take(queue, 3) == ["first", "second", "third"]


@pytest.mark.parametrize(
    ("shape", "expected"),
    [
        ("text", [b"plain"]),
        ("bytes", [b"\x00\xffraw"]),
        ("dict", [b'{"a": 1}']),
        ("message", [b"the body"]),
        ("list", [b"one", b"two", b'{"three": 3}', b"four"]),
    ],
)
async def test_each_value_shape(app: RunningApp, queues: Queues, shape: str, expected: list[bytes]) -> None:
    queue = queues.name("EMIT_QUEUE")
    await app.call("emit", body={"shape": shape})
    texts = await queues.take(queue, len(expected), decode=False)
    assert [base64.b64decode(text) for text in texts] == expected


@pytest.mark.parametrize("shape", ["none", "empty"])
async def test_nothing_is_sent_for_none_or_an_empty_list(app: RunningApp, queues: Queues, shape: str) -> None:
    queue = queues.name("EMIT_QUEUE")
    await app.call("emit", body={"shape": shape})
    assert await queues.visible(queue) == []


@pytest.mark.parametrize(
    ("shape", "message"),
    [
        ("number", "expected str, bytes, dict, func.QueueMessage or a list of them, got int"),
        ("bad-entry", "entry 1: expected str, bytes"),
        ("huge", "at most 64 KiB"),
    ],
)
async def test_a_bad_value_fails_naming_the_binding_and_sends_nothing(
    app: RunningApp, queues: Queues, shape: str, message: str
) -> None:
    queue = queues.name("EMIT_QUEUE")
    with pytest.raises(FunctionInvocationError, match="queue output 'out'") as raised:
        await app.call("emit", body={"shape": shape})
    assert message in str(raised.value)
    assert await queues.visible(queue) == []


async def test_an_activity_sends_through_its_output_binding(app: RunningApp, queues: Queues, task_hub: TaskHub) -> None:
    """The host's wrapping (bound_activities.py) under a real worker: the harness's worker runs activities bare."""
    queue = queues.name("ACTIVITY_OUT_QUEUE")
    worker = Worker(task_hub, registry_with_bindings(app.index, app.services), TEST_SETTINGS)
    await worker.start()
    try:
        await app.client.start_new("announce", "a1", "the news")
        status = await completed(app, "a1")
    finally:
        await worker.stop(timeout=5)
    assert status.output == "sent"
    assert await queues.take(queue, 1) == ["announced the news"]


async def test_the_python_sdk_with_base64_policies_talks_to_trigger_and_output(
    app: RunningApp, queues: Queues, connection_string: str
) -> None:
    """The README's producer recipe: QueueClient with TextBase64EncodePolicy in, BinaryBase64DecodePolicy out."""
    queue, record = queues.name("TEXT_QUEUE"), queues.name("RECORD_QUEUE")
    producer = QueueClient.from_connection_string(
        connection_string, queue, message_encode_policy=TextBase64EncodePolicy()
    )
    with producer:
        producer.create_queue()
        producer.send_message("from the SDK ✓")
    async with listening(app, "as_text"):
        reader = QueueClient.from_connection_string(
            connection_string, record, message_decode_policy=BinaryBase64DecodePolicy()
        )
        with reader:
            received = await _first(reader)
    assert received.decode() == "str:from the SDK ✓"


async def _first(reader: QueueClient) -> bytes:
    found: list[bytes] = []

    async def arrived() -> bool:
        with contextlib.suppress(ResourceNotFoundError):  # the output creates the queue with its first message
            found.extend(message.content for message in reader.receive_messages(max_messages=1))
        return bool(found)

    await eventually(arrived, "the output message")
    return found[0]


async def test_message_encoding_none_sends_the_text_as_it_is(task_hub: TaskHub, queues: Queues, tmp_path: Path) -> None:
    app_dir = tmp_path / "plain_app"
    shutil.copytree(APP_DIR, app_dir)
    (app_dir / "host.json").write_text(
        json.dumps({"version": "2.0", "extensions": {"queues": {"messageEncoding": "none"}}})
    )
    queue, record = queues.name("TEXT_QUEUE"), queues.name("RECORD_QUEUE")
    await queues.send(queue, "as it is", encode=False)
    async with running_app(app_dir, task_hub, with_worker=False) as plain, listening(plain, "as_text"):
        assert await queues.take(record, 1, decode=False) == ["str:as it is"]


def test_a_queue_output_without_a_queue_name_is_a_start_up_error() -> None:
    bindings = [
        {"type": "httpTrigger", "name": "req", "direction": "in"},
        {"type": "queue", "name": "out", "direction": "out", "connection": "AzureWebJobsStorage"},
    ]
    with pytest.raises(ConfigurationError, match="function 'f': queue output binding 'out' needs a queueName"):
        check_function("f", bindings)
