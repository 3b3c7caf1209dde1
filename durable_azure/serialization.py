"""The one JSON serializer of user values (inputs, outputs, results, event data, custom status).

Durable Functions compatible: plain JSON values pass through `json`; an object
with a `to_json` travels in the envelope azure.durable_functions writes,
`{"__class__": name, "__module__": module, "__data__": type(obj).to_json(obj)}`,
and decodes through its class's `from_json(data)` (instance, static or class
method forms all work, as in the SDK), so payloads written by either runtime
decode in the other. Anything else is refused with a TypeError naming the
type: silently writing `str(obj)` would lose data that a replay later needs.

Imports only the standard library.
"""

from __future__ import annotations

import json
import sys
from typing import Any

_CLASS_KEY = "__class__"
_MODULE_KEY = "__module__"
_DATA_KEY = "__data__"


def dumps(value: Any) -> str:
    """JSON text of `value`; custom objects go in the Durable Functions envelope.

    Raises TypeError (naming the type) for a value that is not JSON-serializable.
    """
    try:
        return json.dumps(value, default=_encode_object)
    except ValueError as error:  # e.g. a circular reference: still "not serializable" to callers
        raise TypeError(str(error)) from error


def loads(text: str | None, expected_type: type | None = None) -> Any:
    """The value encoded by `dumps`; `None` stays `None` (no input, no result).

    An envelope whose class is in no already-loaded module is returned as the plain dict (the SDK
    raises ValueError there) unless `expected_type`, the SDK's `expected_type` argument, names that class:
    then `expected_type.from_json` decodes it.
    """
    if text is None:
        return None
    value = json.loads(text, object_hook=_decode_object)
    return value if expected_type is None else as_expected_type(value, expected_type)


def as_expected_type(value: Any, expected_type: type | None) -> Any:
    """`value` with an undecoded envelope of `expected_type`'s class decoded by `expected_type.from_json`.

    Any other value is returned unchanged: as the SDK's (non-strict) decoding, a mismatch is not an error.
    """
    if expected_type is None or not (isinstance(value, dict) and _is_envelope(value)):
        return value
    from_json = getattr(expected_type, "from_json", None)
    if value[_CLASS_KEY] != getattr(expected_type, "__name__", None) or not callable(from_json):
        return value
    return from_json(value[_DATA_KEY])


def check_serializable(value: Any, what: str) -> None:
    """Raise TypeError("<what> is not JSON-serializable: ...") before anything is written.

    Callers pass a description such as "activity 'Hello' input" so the message
    tells the user which call carried the bad value.
    """
    try:
        dumps(value)
    except TypeError as error:
        raise TypeError(f"{what} is not JSON-serializable: {error}") from error


def _encode_object(value: Any) -> Any:
    value_type = type(value)
    if callable(getattr(value_type, "to_json", None)):
        # Called on the class with the object, as azure.functions does: `to_json` may be a method, a
        # staticmethod taking the object (the official serialize_arguments sample's style) or a classmethod.
        data = value_type.to_json(value)
        return {_CLASS_KEY: value_type.__name__, _MODULE_KEY: value_type.__module__, _DATA_KEY: data}
    raise TypeError(f"Object of type {value_type.__name__} is not JSON serializable")


def _is_envelope(value: dict[Any, Any]) -> bool:
    return _CLASS_KEY in value and _MODULE_KEY in value and _DATA_KEY in value


def _decode_object(value: dict[str, Any]) -> Any:
    if not _is_envelope(value):
        return value
    module = sys.modules.get(str(value[_MODULE_KEY]))
    value_type = getattr(module, str(value[_CLASS_KEY]), None) if module is not None else None
    if value_type is None or not callable(getattr(value_type, "from_json", None)):
        return value
    return value_type.from_json(value[_DATA_KEY])
