"""What the queue trigger and the queue output share: message text encoding, queue names, the creating send.

Encoding (host.json `extensions.queues.messageEncoding`): with `base64`, the Functions default, a message's
text is the base64 of its bytes, as the host's queue clients write and expect it; with `none` the text is the
message itself. The task hub's own control and work-item queues are not touched by this setting.

Queue names from bindings are lower-cased and checked as the host does (3-63 characters, lower-case letters,
digits and single hyphens, beginning and ending with a letter or digit).

A listener of this process registers the queue it polls (`watch`), and a queue output that writes to it
wakes that listener at once (`notify`) instead of leaving the message to its idle backoff, as the host's
shared queue watcher does.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import functools
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from durable_azure.errors import StorageError
from durable_azure.queue_settings import MessageEncoding, QueueSettings, load_queue_settings

if TYPE_CHECKING:
    from durable_azure.azure_storage import StorageAccount
    from durable_azure.functions.invocation import Invocable

MAX_MESSAGE_TEXT_BYTES = 64 * 1024
"""The service refuses larger messages; checked before anything is sent."""

_QUEUE_NAME = re.compile(r"^[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){1,61}[a-z0-9]$")
_WHITESPACE = re.compile(r"\s+")


def encode(body: bytes, encoding: MessageEncoding) -> str:
    """The queue message text for `body`; with encoding none it must be UTF-8 text (ValueError otherwise)."""
    if encoding is MessageEncoding.BASE64:
        return base64.b64encode(body).decode("ascii")
    return body.decode("utf-8")


def decode(text: str, encoding: MessageEncoding) -> bytes:
    """The message bytes; ValueError for text that is not base64 when the encoding says it is."""
    if encoding is MessageEncoding.NONE:
        return text.encode("utf-8")
    try:
        return base64.b64decode(_WHITESPACE.sub("", text), validate=True)
    except binascii.Error as error:
        raise ValueError(f"not valid base64: {error}") from None


def queue_name_problem(name: str) -> str | None:
    """Why `name` (already lower-cased) cannot be a queue name, or None when it can."""
    if _QUEUE_NAME.match(name):
        return None
    return (
        f"{name!r} is not a valid queue name (3-63 lower-case letters, digits and single hyphens, "
        "beginning and ending with a letter or digit)"
    )


def poison_queue_name(queue: str) -> str | None:
    """`{queue}-poison`, or None where the host keeps no poison queue (a poison queue's own, or too long)."""
    if queue.endswith("-poison"):
        return None
    name = f"{queue}-poison"
    return name if queue_name_problem(name) is None else None


def is_queue_missing(error: StorageError) -> bool:
    return error.status == 404 and error.code in (None, "QueueNotFound")


async def send_creating(account: StorageAccount, queue: str, text: str) -> None:
    """Send one message, creating the queue when it does not exist yet (one send, or send + create + send)."""
    try:
        await account.queues.send(queue, text, visibility_timeout=0)
        return
    except StorageError as error:
        if not is_queue_missing(error):
            raise
    await account.queues.create_queue(queue)
    await account.queues.send(queue, text, visibility_timeout=0)


def app_directory(function: Invocable) -> Path | None:
    """The folder holding host.json: a v2 function's directory is the app's, a v1 function's is inside it."""
    from durable_azure.functions.indexing import ProgrammingModel

    if function.directory is None:
        return None
    return function.directory if function.model is ProgrammingModel.V2 else function.directory.parent


def settings_for(function: Invocable) -> QueueSettings:
    """The app's `extensions.queues`, read once per app folder (settings are frozen at start-up)."""
    return _settings_in(app_directory(function))


@functools.lru_cache(maxsize=32)
def _settings_in(app_dir: Path | None) -> QueueSettings:
    return load_queue_settings(app_dir)


_watchers: dict[tuple[str, str], set[asyncio.Event]] = {}


@contextmanager
def watch(account: StorageAccount, queue: str, wake: asyncio.Event) -> Iterator[None]:
    """While the block runs, a message this process sends to `queue` of `account` sets `wake`."""
    key = (account.account_name, queue)
    _watchers.setdefault(key, set()).add(wake)
    try:
        yield
    finally:
        _watchers[key].discard(wake)
        if not _watchers[key]:
            del _watchers[key]


def notify(account: StorageAccount, queue: str) -> None:
    for wake in _watchers.get((account.account_name, queue), ()):
        wake.set()


__all__ = [
    "MAX_MESSAGE_TEXT_BYTES",
    "app_directory",
    "decode",
    "encode",
    "is_queue_missing",
    "notify",
    "poison_queue_name",
    "queue_name_problem",
    "send_creating",
    "settings_for",
    "watch",
]
