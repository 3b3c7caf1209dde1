"""`DurableEntityContext`: what an entity function sees for one operation (azure.durable_functions' names).

The scheduler runs the function once per operation of a batch on one context.
Each operation starts from the state the previous successful one left; when an
operation raises, its state change and the signals it sent are rolled back, and
only its caller sees the error (the Python SDK keeps a half-applied state; .NET
rolls back, and so do we).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from durable_azure import serialization
from durable_azure.entities.entity_id import EntityId, as_entity_id

_UNSET: Any = object()


@dataclass(frozen=True, slots=True)
class EntitySignal:
    """A signal an entity sends to another entity while running an operation."""

    target: EntityId
    operation: str
    input: str | None


def decode_operation_input(text: str | None, expected_type: type | None = None) -> Any:
    """An operation's argument from its stored `input`.

    Callers through the extension store Python arguments JSON-encoded twice (the
    SDK's quirk, which we write too); .NET callers encode once. A second decode is
    tried on a string and kept only when it is JSON, so both read back as sent.
    """
    if text is None:
        return None
    value = json.loads(text)
    if isinstance(value, str):
        try:
            return serialization.loads(value, expected_type)
        except ValueError:
            return value
    return serialization.as_expected_type(value, expected_type)


def encode_operation_input(value: Any) -> str:
    """The stored `input` for an argument: JSON text of the JSON text, as the extension stores a Python caller's."""
    return json.dumps(serialization.dumps(value))


class DurableEntityContext:
    """The context an entity function receives; one operation at a time."""

    def __init__(self, name: str, key: str, exists: bool, state: str | None) -> None:
        """`state` is the stored state's JSON text (the SDK's parameter names)."""
        self._name = name
        self._key = key
        self._committed = (exists, state)
        self._exists = exists
        self._state_text = state
        self._state: Any = _UNSET
        self._operation: str | None = None
        self._input_text: str | None = None
        self._result: Any = None
        self._existed_before = exists
        self._signals: list[EntitySignal] = []

    # -- the SDK's names --

    @classmethod
    def from_json(cls, json_str: str) -> tuple[DurableEntityContext, list[dict[str, Any]]]:
        """A context and its batch from the extension's entity trigger JSON (`self`, `exists`, `state`, `batch`).

        For unit tests of entity functions written against the SDK; the worker builds contexts itself.
        """
        value = json.loads(json_str)
        identity = value["self"]
        context = cls(identity["name"], identity["key"], bool(value.get("exists")), value.get("state"))
        return context, list(value.get("batch") or [])

    @property
    def entity_name(self) -> str:
        """The entity's name, lower-cased as the extension passes it."""
        return self._name

    @property
    def entity_key(self) -> str:
        return self._key

    @property
    def operation_name(self) -> str | None:
        if self._operation is None:
            raise Exception("Entity operation is unassigned")
        return self._operation

    @property
    def is_newly_constructed(self) -> bool:
        """True when the entity had no state when this operation began (the SDK always says False)."""
        return not self._existed_before

    def get_input(self, expected_type: type | None = None) -> Any:
        """The operation's argument; None when the signal or call had none (the SDK raises there)."""
        return decode_operation_input(self._input_text, expected_type)

    def get_state(self, initializer: Any = None, expected_type: type | None = None) -> Any:
        """The state; when the entity has none, `initializer()` (or `initializer` itself if not callable)."""
        if not self._exists:
            return initializer() if callable(initializer) else initializer
        if self._state is _UNSET:
            self._state = serialization.loads(self._state_text, expected_type)
        return self._state

    def set_state(self, state: Any) -> None:
        """Replace the state; the entity exists from now on."""
        self._exists = True
        self._state = state

    def set_result(self, result: Any) -> None:
        """The operation's result, returned to a caller (a signal's result is dropped)."""
        self._result = result

    def destruct_on_exit(self) -> None:
        """Delete the entity when the operation ends: no state is left (a later `set_state` recreates it)."""
        self._exists = False
        self._state = None
        self._state_text = None

    def signal_entity(self, entity_id: Any, operation_name: str, operation_input: Any = None) -> None:
        """Send a one-way operation to another entity, once this operation succeeds."""
        if not isinstance(operation_name, str) or not operation_name:
            raise ValueError("operation_name must be a non-empty string")
        target = as_entity_id(entity_id)
        self._signals.append(EntitySignal(target, operation_name, encode_operation_input(operation_input)))

    # -- driven by the scheduler --

    def _begin(self, operation: str, input_text: str | None) -> None:
        self._exists, self._state_text = self._committed
        self._existed_before = self._exists
        self._state = _UNSET
        self._operation = operation
        self._input_text = input_text
        self._result = None
        self._signals = []

    def _commit(self) -> tuple[str, list[EntitySignal]]:
        """Keep this operation's effects: (result JSON text, its signals); raises if state or result won't encode."""
        if self._state is not _UNSET and self._exists:
            state_text: str | None = serialization.dumps(self._state)
        else:
            state_text = self._state_text if self._exists else None
        result_text = serialization.dumps(self._result)
        self._committed = (self._exists, state_text)
        return result_text, self._signals

    @property
    def _committed_state(self) -> tuple[bool, str | None]:
        return self._committed
