"""Helpers of the queue trigger and output tests: per-test queue names, listeners, reading queues back.

Queue names are app settings of tests/functions/queue_app (`%START_QUEUE%`, ...), each set to a fresh name
per test; every queue a test names (and its `-poison` queue) is deleted afterwards, since Azurite's queue
requests slow down with every message left in the account.
"""

from __future__ import annotations

import asyncio
import base64
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from durable_azure.azure_storage import StorageAccount
from durable_azure.azure_storage.queue_service import StoredMessage
from durable_azure.functions.triggers.queue import QueueListener
from tests.functions.harness import RunningApp

APP_DIR = Path(__file__).parent / "queue_app"
CEILING_SECONDS = 30.0
"""Only stops a hung test; never a timing assertion."""


class Queues:
    """Fresh queue names behind the app's settings; `delete_all` removes them and their poison queues."""

    def __init__(self, account: StorageAccount, monkeypatch: pytest.MonkeyPatch) -> None:
        self.account = account
        self._monkeypatch = monkeypatch
        self.names: list[str] = []

    def name(self, setting: str | None = None) -> str:
        name = f"q{uuid.uuid4().hex[:20]}"
        self.names.append(name)
        if setting is not None:
            self._monkeypatch.setenv(setting, name)
        return name

    async def send(self, queue: str, body: str | bytes, *, encode: bool = True) -> StoredMessage:
        """Send as a producer would: base64 of the bytes (the Functions default), or the raw text."""
        raw = body.encode() if isinstance(body, str) else body
        text = base64.b64encode(raw).decode() if encode else raw.decode()
        await self.account.queues.create_queue(queue)
        return await self.account.queues.send(queue, text, visibility_timeout=0)

    async def take(self, queue: str, count: int, *, decode: bool = True) -> list[str]:
        """Receive until `count` messages arrived (deleting them); their text, base64-decoded unless told not to."""
        texts: list[str] = []
        deadline = time.monotonic() + CEILING_SECONDS
        while len(texts) < count:
            assert time.monotonic() < deadline, f"{queue}: {len(texts)} of {count} messages after {CEILING_SECONDS} s"
            try:
                messages = await self.account.queues.receive(queue, 32, visibility_timeout=60)
            except Exception:  # the queue does not exist yet
                messages = []
            for message in messages:
                texts.append(base64.b64decode(message.text).decode() if decode else message.text)
                await self.account.queues.delete_message(queue, message.message_id, message.pop_receipt)
            if not messages:
                await asyncio.sleep(0.1)
        return texts

    async def visible(self, queue: str) -> list[StoredMessage]:
        try:
            return await self.account.queues.peek(queue, 32)
        except Exception:
            return []

    async def delete_all(self) -> None:
        for name in self.names:
            await self.account.queues.delete_queue(name)
            await self.account.queues.delete_queue(f"{name}-poison")


@asynccontextmanager
async def listening(app: RunningApp, function_name: str, **options: Any) -> AsyncIterator[QueueListener]:
    """The function's queue listener, started; stopped when the block ends."""
    function = next(function for function in app.index.triggered if function.name == function_name)
    listener = QueueListener(function, app.services, **options)
    await listener.start()
    try:
        yield listener
    finally:
        await listener.stop()


async def eventually(check: Callable[[], Awaitable[bool]], what: str) -> None:
    deadline = time.monotonic() + CEILING_SECONDS
    while not await check():
        assert time.monotonic() < deadline, f"not within {CEILING_SECONDS} s: {what}"
        await asyncio.sleep(0.1)


async def completed(app: RunningApp, instance_id: str) -> Any:
    """The status of `instance_id` once it finished; it may not exist yet when called (a message starts it)."""

    async def exists() -> bool:
        return await app.client.get_status(instance_id, show_input=False) is not None

    await eventually(exists, f"instance {instance_id!r} started")
    return await app.client.wait_for_completion(instance_id, timeout=CEILING_SECONDS)
