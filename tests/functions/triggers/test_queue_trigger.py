"""The queue trigger end to end on Azurite: orchestrations started from messages, values, metadata, poison.

tests/functions/queue_app's host.json keeps it fast: maxDequeueCount 2, visibilityTimeout 0, polling <= 0.5 s.
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest
import pytest_asyncio

from durable_azure.azure_storage import TaskHub
from durable_azure.errors import ConfigurationError
from durable_azure.functions.triggers import listener_for
from tests.functions.harness import RunningApp, running_app
from tests.functions.queue_support import APP_DIR, Queues, completed, eventually, listening


@pytest_asyncio.fixture
async def app(task_hub: TaskHub) -> AsyncIterator[RunningApp]:
    async with running_app(APP_DIR, task_hub) as running:
        yield running


@pytest_asyncio.fixture
async def queues(task_hub: TaskHub, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Queues]:
    created = Queues(task_hub.account, monkeypatch)
    yield created
    await created.delete_all()


@pytest.mark.parametrize(
    ("function_name", "setting"),
    [
        ("start_with_client", "START_QUEUE"),
        ("start_with_output", "OUTPUT_START_QUEUE"),
        ("start_with_out", "OUT_START_QUEUE"),
    ],
)
async def test_a_message_starts_an_orchestration(
    app: RunningApp, queues: Queues, function_name: str, setting: str
) -> None:
    queue = queues.name(setting)
    await queues.send(queue, json.dumps({"id": f"order-{function_name}", "input": {"n": 7}}))
    async with listening(app, function_name):
        status = await completed(app, f"order-{function_name}")
    assert status.output == {"n": 7}
    assert await queues.visible(queue) == []


async def test_the_message_parameter_has_every_metadata_field(app: RunningApp, queues: Queues) -> None:
    queue, record = queues.name("METADATA_QUEUE"), queues.name("RECORD_QUEUE")
    sent = await queues.send(queue, "héllo")
    async with listening(app, "record_metadata"):
        [text] = await queues.take(record, 1)
    seen = json.loads(text)
    assert seen["id"] == sent.message_id
    assert seen["body"] == "héllo"
    assert seen["dequeue_count"] == 1
    assert datetime.fromisoformat(seen["insertion_time"]) == sent.insertion_time
    assert datetime.fromisoformat(seen["expiration_time"]) == sent.expiration_time
    assert datetime.fromisoformat(seen["time_next_visible"]) > sent.insertion_time + timedelta(minutes=5)
    assert seen["pop_receipt"]


@pytest.mark.parametrize(
    ("function_name", "setting", "body", "expected"),
    [
        ("as_text", "TEXT_QUEUE", "plain text", "str:plain text"),
        ("as_bytes", "BYTES_QUEUE", "some bytes", "bytes:some bytes"),
        ("as_json", "JSON_QUEUE", '{"a": [1, 2]}', {"type": "dict", "value": {"a": [1, 2]}}),
    ],
)
async def test_the_parameter_is_converted_by_its_annotation(
    app: RunningApp, queues: Queues, function_name: str, setting: str, body: str, expected: object
) -> None:
    queue, record = queues.name(setting), queues.name("RECORD_QUEUE")
    await queues.send(queue, body)
    async with listening(app, function_name):
        [text] = await queues.take(record, 1)
    assert (json.loads(text) if isinstance(expected, dict) else text) == expected


async def test_json_body_properties_are_binding_data(app: RunningApp, queues: Queues) -> None:
    queue, target = queues.name("ROUTED_QUEUE"), queues.name()
    await queues.send(queue, json.dumps({"target": target.upper(), "text": "routed here"}))
    async with listening(app, "routed"):
        assert await queues.take(target, 1) == ["routed here"]


async def test_a_failing_message_goes_to_the_poison_queue_intact(app: RunningApp, queues: Queues) -> None:
    queue = queues.name("FAIL_QUEUE")
    body = json.dumps({"order": 1, "note": "ünïcode & <xml>"})
    await queues.send(queue, body)
    async with listening(app, "always_fails"):
        poisoned = await queues.take(f"{queue}-poison", 1, decode=False)
    assert poisoned == [base64.b64encode(body.encode()).decode()]  # the stored text, same encoding
    assert await queues.visible(queue) == []


async def test_text_that_is_not_base64_goes_to_poison_without_running(app: RunningApp, queues: Queues) -> None:
    queue, record = queues.name("TEXT_QUEUE"), queues.name("RECORD_QUEUE")
    await queues.send(queue, "not base64!", encode=False)
    async with listening(app, "as_text"):
        assert await queues.take(f"{queue}-poison", 1, decode=False) == ["not base64!"]
    assert await queues.visible(record) == []


async def test_a_message_over_the_dequeue_count_goes_to_poison_without_running(app: RunningApp, queues: Queues) -> None:
    queue, record = queues.name("TEXT_QUEUE"), queues.name("RECORD_QUEUE")
    await queues.send(queue, "seen too often")
    for _ in range(3):  # maxDequeueCount is 2
        [message] = await queues.account.queues.receive(queue, 1, visibility_timeout=30)
        await queues.account.queues.update_visibility(queue, message.message_id, message.pop_receipt, 0)
    async with listening(app, "as_text"):
        assert await queues.take(f"{queue}-poison", 1) == ["seen too often"]
    assert await queues.visible(record) == []


async def test_a_queue_that_does_not_exist_yet_is_polled_until_it_does(
    task_hub: TaskHub, queues: Queues, caplog: pytest.LogCaptureFixture
) -> None:
    queue, record = queues.name("TEXT_QUEUE"), queues.name("RECORD_QUEUE")
    async with running_app(APP_DIR, task_hub, with_worker=False) as bare, listening(bare, "as_text"):
        receives = queues.account.counter.snapshot().get("queue.receive", 0)

        async def polled_twice() -> bool:  # only the listener receives here: no worker runs
            return queues.account.counter.snapshot().get("queue.receive", 0) >= receives + 2

        await eventually(polled_twice, "receives on the missing queue")
        await queues.send(queue, "late")
        assert await queues.take(record, 1) == ["str:late"]
    assert "queue.receive_failed" not in caplog.text


def test_describe_names_the_queue_and_connection(app: RunningApp, queues: Queues) -> None:
    queue = queues.name("TEXT_QUEUE")
    function = next(function for function in app.index.triggered if function.name == "as_text")
    assert listener_for(function, app.services).describe() == f"queueTrigger: {queue} (connection AzureWebJobsStorage)"


def test_an_unset_queue_name_setting_is_a_start_up_error(app: RunningApp, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TEXT_QUEUE", raising=False)
    function = next(function for function in app.index.triggered if function.name == "as_text")
    with pytest.raises(ConfigurationError, match=r"function 'as_text'.*TEXT_QUEUE"):
        listener_for(function, app.services)


async def test_a_v1_function_reads_host_json_from_the_app_folder(task_hub: TaskHub, queues: Queues) -> None:
    """tests/functions/queue_v1_app/host.json says messageEncoding none: text travels as it is, both ways."""
    source, copies = queues.name("V1_IN_QUEUE"), queues.name("V1_OUT_QUEUE")
    await queues.send(source, "plain text", encode=False)
    v1_dir = APP_DIR.parent / "queue_v1_app"
    async with running_app(v1_dir, task_hub, with_worker=False) as v1_app, listening(v1_app, "CopyMessage"):
        assert await queues.take(copies, 1, decode=False) == ["copy of plain text (dequeued 1 time)"]
