"""The one user-value serializer: plain JSON, the Durable Functions custom-object envelope, clear errors."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from durable_azure import serialization


class Point:
    def __init__(self, x: int, y: int) -> None:
        self.x, self.y = x, y

    def to_json(self) -> dict[str, int]:
        return {"x": self.x, "y": self.y}

    @classmethod
    def from_json(cls, data: dict[str, int]) -> Point:
        return cls(data["x"], data["y"])

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Point) and (self.x, self.y) == (other.x, other.y)


class Counter:
    """Static `to_json(obj)` / `from_json(text)`, the style of the public serialize_arguments sample."""

    def __init__(self, number: int) -> None:
        self.number = number

    @staticmethod
    def to_json(obj: object) -> str:
        assert isinstance(obj, Counter)
        return str(obj.number)

    @staticmethod
    def from_json(text: str) -> Counter:
        return Counter(int(text))


@pytest.mark.parametrize("value", [None, 1, 2.5, "text", "", True, [1, "a", None], {"k": {"nested": [1]}}])
def test_plain_json_round_trips(value):
    text = serialization.dumps(value)
    assert json.loads(text) == value
    assert serialization.loads(text) == value


def test_a_string_stays_a_string():
    assert serialization.dumps("hello") == '"hello"'
    assert serialization.loads('"{\\"a\\": 1}"') == '{"a": 1}'


def test_none_text_is_none():
    assert serialization.loads(None) is None


def test_custom_object_uses_the_durable_functions_envelope():
    text = serialization.dumps({"where": Point(1, 2)})
    assert json.loads(text) == {"where": {"__class__": "Point", "__module__": __name__, "__data__": {"x": 1, "y": 2}}}
    assert serialization.loads(text) == {"where": Point(1, 2)}


def test_static_to_json_is_called_with_the_object_as_azure_functions_calls_it():
    text = serialization.dumps(Counter(5))
    assert json.loads(text) == {"__class__": "Counter", "__module__": __name__, "__data__": "5"}
    assert serialization.loads(text).number == 5


def test_envelope_of_an_unknown_class_decodes_to_the_plain_dict():
    envelope = {"__class__": "Gone", "__module__": "no.such.module", "__data__": {"a": 1}}
    assert serialization.loads(json.dumps(envelope)) == envelope


@pytest.mark.parametrize("value", [object(), datetime(2024, 1, 1), {1, 2}])
def test_non_serializable_values_raise_type_error_naming_the_type(value):
    with pytest.raises(TypeError, match=type(value).__name__):
        serialization.dumps(value)


def test_circular_value_is_a_type_error():
    looped: list = []
    looped.append(looped)
    with pytest.raises(TypeError):
        serialization.dumps(looped)


def test_check_serializable_names_what_was_checked():
    serialization.check_serializable({"fine": [1]}, "activity 'A' input")
    with pytest.raises(TypeError, match=r"^activity 'A' input is not JSON-serializable: .*set"):
        serialization.check_serializable({1}, "activity 'A' input")
