"""`queue` output: messages sent to an Azure Storage queue after the function returned successfully.

Values, as the Python worker's queue converter takes them (through `func.Out[...]` or `$return`):
- `str` or `bytes`: one message;
- a `dict`: one message, its JSON text;
- a `func.QueueMessage`: one message with its body (the worker hands the host `{"id", "body"}` JSON; what the
  host then enqueues is not documented, and the body is what the type promises);
- a list or tuple of those: one message per element, in order (so a list always means several messages;
  send `json.dumps(items)` for one message holding a JSON array);
- `None` or an empty list: nothing.

`queueName` takes `%Setting%` and `{trigger metadata}` expressions and is lower-cased as the host does;
`connection` names the storage account's app setting (empty: AzureWebJobsStorage). The queue is created
when it does not exist. Message text is encoded per `extensions.queues.messageEncoding` (base64 unless
"none"). Every message is built and size-checked before the first is sent.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import azure.functions as func

from durable_azure.errors import ConfigurationError, FunctionInvocationError
from durable_azure.functions import queue_messages
from durable_azure.functions.bindings import Write, register
from durable_azure.functions.bindings.expressions import resolve
from durable_azure.functions.indexing import BindingSpec
from durable_azure.queue_settings import MessageEncoding

if TYPE_CHECKING:
    from durable_azure.functions.invocation import Invocation


class QueueOutputBinding:
    def check(self, function_name: str, binding: BindingSpec) -> None:
        queue_name = binding.field("queueName")
        if not isinstance(queue_name, str) or not queue_name.strip():
            raise ConfigurationError(
                f"function {function_name!r}: queue output binding {binding.name!r} needs a queueName"
            )

    async def read(self, invocation: Invocation, binding: BindingSpec) -> Any:
        raise ConfigurationError(f"binding {binding.name!r}: queue is an output binding; use a queueTrigger to read")

    async def plan(self, invocation: Invocation, binding: BindingSpec, value: Any) -> Write | None:
        where = f"function {invocation.function_name!r}: queue output {binding.name!r}"
        bodies = message_bodies(value, where=where)
        if not bodies:
            return None
        queue = resolve(str(binding.field("queueName")), invocation.binding_data, where=where).lower()
        problem = queue_messages.queue_name_problem(queue)
        if problem is not None:
            raise FunctionInvocationError(f"{where}: {problem}")
        encoding = queue_messages.settings_for(invocation.function).message_encoding
        texts = [_encoded(body, encoding, where=where, index=index) for index, body in enumerate(bodies)]
        if invocation.services.account_for is None:
            raise FunctionInvocationError(f"{where}: this host gives functions no storage accounts")
        account = invocation.services.account_for(binding.field("connection") or None)

        async def send() -> None:
            for text in texts:
                await queue_messages.send_creating(account, queue, text)
            queue_messages.notify(account, queue)

        return send


def message_bodies(value: Any, *, where: str) -> list[bytes]:
    """The bytes of each message `value` stands for; FunctionInvocationError naming the entry otherwise."""
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return [_body(item, where=f"{where}, entry {index}") for index, item in enumerate(value)]
    return [_body(value, where=where)]


def _body(value: Any, *, where: str) -> bytes:
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    if isinstance(value, func.QueueMessage):
        return value.get_body()
    if isinstance(value, dict):
        try:
            return json.dumps(value).encode("utf-8")
        except (TypeError, ValueError) as error:
            raise FunctionInvocationError(f"{where}: the dict is not JSON-serializable: {error}") from None
    raise FunctionInvocationError(
        f"{where}: expected str, bytes, dict, func.QueueMessage or a list of them, got {type(value).__name__}"
    )


def _encoded(body: bytes, encoding: MessageEncoding, *, where: str, index: int) -> str:
    try:
        text = queue_messages.encode(body, encoding)
    except UnicodeDecodeError:
        raise FunctionInvocationError(
            f"{where}: message {index} is not UTF-8 text, which messageEncoding none requires"
        ) from None
    if len(text.encode("utf-8")) > queue_messages.MAX_MESSAGE_TEXT_BYTES:
        raise FunctionInvocationError(
            f"{where}: message {index} is {len(text)} characters once encoded; a queue message holds at most 64 KiB"
        )
    return text


register("queue", "out", QueueOutputBinding())
