"""The blob trigger in `durable-azure start`: listed at start-up, run on the host's first scan, host.json read."""

from __future__ import annotations

import asyncio
import base64
import json
from pathlib import Path

import pytest

from durable_azure.azure_storage import StorageAccount
from durable_azure.functions.triggers.blob import POISON_QUEUE
from tests.functions.host_process import delete_hub, eventually, running_host
from tests.functions.test_blob_bindings import unique_names

APP_DIR = Path(__file__).parents[1] / "blob_app"


async def _upload(connection_string: str, container: str, name: str, data: bytes) -> None:
    async with StorageAccount.from_connection_string(connection_string) as account:
        await account.blobs.create_container(container)
        await account.blobs.put(container, name, data)


async def _copies(connection_string: str, container: str) -> list[str]:
    async with StorageAccount.from_connection_string(connection_string) as account:
        await account.blobs.create_container(container)
        return [item.name for item in await account.blobs.list_blobs(container)]


async def _poison_for(connection_string: str, container: str) -> list[dict[str, str]]:
    async with StorageAccount.from_connection_string(connection_string) as account:
        await account.queues.create_queue(POISON_QUEUE)
        notices = [
            json.loads(base64.b64decode(message.text)) for message in await account.queues.peek(POISON_QUEUE, 32)
        ]
    return [notice for notice in notices if notice["ContainerName"] == container]


def test_host_lists_and_runs_the_blob_trigger(connection_string: str, monkeypatch: pytest.MonkeyPatch) -> None:
    names = unique_names(monkeypatch)
    asyncio.run(_upload(connection_string, names["WATCHED"], "first.txt", b"hi"))
    asyncio.run(_upload(connection_string, names["FAILING"], "broken", b"x"))
    with running_host(connection_string, app_dir=APP_DIR) as host:
        try:
            assert f"copy_blob: blobTrigger: {names['WATCHED']}/{{name}}.txt" in host.text_output()
            found = eventually(
                lambda: asyncio.run(_copies(connection_string, names["COPIES"])), bool, "the blob's copy"
            )
            assert [name.partition("/")[0] for name in found] == ["first"]
            notices = eventually(
                lambda: asyncio.run(_poison_for(connection_string, names["FAILING"])), bool, "the poison notice"
            )
            assert notices[0]["BlobName"] == "broken"
            assert host.stop() == 0
        finally:
            asyncio.run(delete_hub(connection_string, host.hub_name))
    assert host.text_output().count("blob_trigger.attempt_failed function=always_fails") == 2
