"""The orchestration-client output binding's payload: parse and validate it whole, before anything starts.

A function that declares an output binding of type `durableClient` (or the legacy `orchestrationClient`)
sets it to one start request or a list of them, as Node apps do:
`[{"FunctionName": "Hello", "Input": ..., "InstanceId": "..."}]`. As in the extension (Newtonsoft, property
names without case), `functionName`/`instanceId`/`input` are accepted too, and an entry may itself be a
JSON string. `FunctionName` is required; `InstanceId` is optional (a new id is made when it is missing or
empty). Every entry is checked before the first start, so a bad payload starts nothing; each error names
the entry and the field.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from durable_azure import serialization
from durable_azure.client.instance_ids import new_instance_id, validate_instance_id
from durable_azure.errors import FunctionInvocationError

FUNCTION_NAME, INPUT, INSTANCE_ID = "FunctionName", "Input", "InstanceId"
_FIELDS = {field.lower(): field for field in (FUNCTION_NAME, INPUT, INSTANCE_ID)}


@dataclass(frozen=True, slots=True, kw_only=True)
class StartRequest:
    """One validated entry: start `function_name` as `instance_id` with `input_`."""

    function_name: str
    instance_id: str
    input_: Any = None
    is_new_id: bool = False
    """True when the payload gave no InstanceId and one was made up (no existing instance can clash)."""


def parse_start_requests(
    value: Any, *, binding_name: str, known_orchestrators: Collection[str] | None = None
) -> list[StartRequest]:
    """Every start request of an output-binding value, or FunctionInvocationError naming entry and field.

    `known_orchestrators` (lower-case names), when given, must contain each FunctionName, as the extension
    refuses to start a function that is not an orchestrator.
    """
    where = f"output binding {binding_name!r}"
    entries = _entries(_decode(value, where), where)
    requests = [_parse_entry(entry, f"{where}, entry {index}") for index, entry in enumerate(entries)]
    _check_names(requests, where, known_orchestrators)
    _check_unique_ids(requests, where)
    return requests


def _decode(value: Any, where: str) -> Any:
    if isinstance(value, bytes | bytearray):
        value = bytes(value).decode("utf-8", errors="replace")
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except json.JSONDecodeError as error:
        raise FunctionInvocationError(f"{where}: invalid JSON ({error.msg} at position {error.pos})") from None


def _entries(payload: Any, where: str) -> list[Any]:
    if isinstance(payload, dict):
        return [payload]
    if isinstance(payload, list):
        return payload
    raise FunctionInvocationError(
        f"{where}: expected an object with {FUNCTION_NAME} or a list of them, got {_kind(payload)}"
    )


def _parse_entry(entry: Any, where: str) -> StartRequest:
    if isinstance(entry, str):
        entry = _decode(entry, where)
    if not isinstance(entry, dict):
        raise FunctionInvocationError(f"{where}: expected an object with {FUNCTION_NAME}, got {_kind(entry)}")
    fields = _canonical_fields(entry, where)
    function_name = fields.get(FUNCTION_NAME)
    if function_name is None:
        raise FunctionInvocationError(f"{where}: {FUNCTION_NAME} is missing")
    if not isinstance(function_name, str) or not function_name.strip():
        raise FunctionInvocationError(
            f"{where}: {FUNCTION_NAME} must be a non-empty string, got {_kind(function_name)}"
        )
    given_id = fields.get(INSTANCE_ID)
    return StartRequest(
        function_name=function_name,
        instance_id=_instance_id(given_id, where),
        input_=_checked_input(fields.get(INPUT), where),
        is_new_id=given_id is None or given_id == "",
    )


def _canonical_fields(entry: dict[Any, Any], where: str) -> dict[str, Any]:
    """Known fields under their PascalCase names; a field given twice (e.g. FunctionName and functionName) fails."""
    fields: dict[str, Any] = {}
    for key, value in entry.items():
        canonical = _FIELDS.get(str(key).lower())
        if canonical is None:
            continue
        if canonical in fields:
            raise FunctionInvocationError(f"{where}: {canonical} is given twice (field names ignore case)")
        fields[canonical] = value
    return fields


def _instance_id(value: Any, where: str) -> str:
    if value is None or value == "":
        return new_instance_id()
    if not isinstance(value, str):
        raise FunctionInvocationError(f"{where}: {INSTANCE_ID} must be a string, got {_kind(value)}")
    try:
        return validate_instance_id(value)
    except ValueError as error:
        raise FunctionInvocationError(f"{where}: {INSTANCE_ID} is invalid: {error}") from None


def _checked_input(value: Any, where: str) -> Any:
    try:
        serialization.dumps(value)
    except TypeError as error:
        raise FunctionInvocationError(f"{where}: {INPUT} is not JSON-serializable: {error}") from None
    return value


def _check_names(requests: list[StartRequest], where: str, known: Collection[str] | None) -> None:
    if known is None:
        return
    for index, request in enumerate(requests):
        if request.function_name.lower() not in known:
            raise FunctionInvocationError(
                f"{where}, entry {index}: {FUNCTION_NAME} {request.function_name!r} is not an orchestrator "
                "function of this app"
            )


def _check_unique_ids(requests: list[StartRequest], where: str) -> None:
    first_entry: dict[str, int] = {}
    for index, request in enumerate(requests):
        earlier = first_entry.setdefault(request.instance_id, index)
        if earlier != index:
            raise FunctionInvocationError(
                f"{where}, entry {index}: {INSTANCE_ID} {request.instance_id!r} repeats entry {earlier}"
            )


def _kind(value: Any) -> str:
    """A JSON-ish name for the type of `value`, for error messages."""
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null"}
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f"the number {value!r}"
    return names.get(type(value), type(value).__name__)
