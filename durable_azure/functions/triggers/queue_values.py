"""What a queue-triggered function's parameter receives, and the trigger metadata its bindings can name.

As the Python worker converts (azure.functions `QueueMessageInConverter` and the worker's generic binding):
- annotated `func.QueueMessage`, or not annotated: a `func.QueueMessage` with `id`, the body bytes
  (`get_body()`, `get_json()`), `dequeue_count`, `expiration_time`, `insertion_time`, `time_next_visible`
  (aware UTC datetimes) and `pop_receipt`, all as storage returned them on this receive;
- annotated `str`: the body as text (UTF-8; undecodable bytes become U+FFFD, as .NET decodes them);
- annotated `bytes`: the body bytes;
- annotated `dict`, `list` or `typing.Any`-free JSON types: the body parsed as JSON. The worker refuses these
  annotations at load; here they are a convenience, and a body that is not JSON fails the invocation
  (so, after `maxDequeueCount` attempts, the message goes to the poison queue).

Binding data (for `{...}` expressions in other bindings): QueueTrigger (the text, when it is UTF-8),
DequeueCount, Id, InsertionTime, ExpirationTime, NextVisibleTime, PopReceipt, and, when the body is a JSON
object, its top-level properties. The metadata wins over a body property of the same name; the host lets the
body win there (azure-functions-python-worker #1373), which hides the real message id.
"""

from __future__ import annotations

import inspect
import json
import typing
from collections.abc import Callable
from datetime import datetime
from typing import Any

from azure.functions.queue import QueueMessage

from durable_azure.azure_storage.queue_service import StoredMessage

_JSON_NAMES = frozenset({"dict", "list", "typing.dict", "typing.list"})


def parameter_value(function: Callable[..., Any], parameter_name: str, message: StoredMessage, body: bytes) -> Any:
    """The value the trigger parameter gets, by its annotation; ValueError for a JSON parameter with bad JSON."""
    kind = _annotation_kind(function, parameter_name)
    if kind == "str":
        return body.decode("utf-8", errors="replace")
    if kind == "bytes":
        return body
    if kind == "json":
        try:
            return json.loads(body)
        except ValueError as error:
            raise ValueError(
                f"the message body is not JSON, which parameter {parameter_name!r} expects: {error}"
            ) from None
    return QueueMessage(
        id=message.message_id,
        body=body,
        dequeue_count=message.dequeue_count,
        expiration_time=message.expiration_time,
        insertion_time=message.insertion_time,
        time_next_visible=message.time_next_visible,
        pop_receipt=message.pop_receipt,
    )


def binding_data(message: StoredMessage, body: bytes) -> dict[str, Any]:
    """The trigger metadata of one message, for binding expressions such as `{queueTrigger}` or `{Id}`."""
    metadata: dict[str, Any] = {
        "DequeueCount": message.dequeue_count,
        "Id": message.message_id,
        "InsertionTime": _time(message.insertion_time),
        "ExpirationTime": _time(message.expiration_time),
        "NextVisibleTime": _time(message.time_next_visible),
        "PopReceipt": message.pop_receipt,
    }
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is not None:
        metadata["QueueTrigger"] = text
    data: dict[str, Any] = {}
    payload = _json_object(text)
    if payload is not None:
        data.update(payload)
    taken = {name.lower() for name in metadata}
    data = {name: value for name, value in data.items() if name.lower() not in taken}
    data.update({name: value for name, value in metadata.items() if value is not None})
    return data


def _annotation_kind(function: Callable[..., Any], parameter_name: str) -> str:
    """One of str, bytes, json or message, from the parameter's annotation (resolved or as written)."""
    try:
        annotation = typing.get_type_hints(function).get(parameter_name, inspect.Parameter.empty)
    except Exception:  # an unresolvable forward reference: fall back to the annotation's text
        parameter = inspect.signature(function).parameters.get(parameter_name)
        annotation = parameter.annotation if parameter is not None else inspect.Parameter.empty
    if annotation is str or annotation == "str":
        return "str"
    if annotation is bytes or annotation == "bytes":
        return "bytes"
    origin = typing.get_origin(annotation) or annotation
    if origin in (dict, list):
        return "json"
    if isinstance(annotation, str) and annotation.split("[")[0].lower() in _JSON_NAMES:
        return "json"
    return "message"


def _json_object(text: str | None) -> dict[str, Any] | None:
    if not text or not text.lstrip().startswith("{"):
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _time(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


__all__ = ["binding_data", "parameter_value"]
