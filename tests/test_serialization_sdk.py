"""Custom objects between durable-azure and azure.durable_functions: the same envelope, both ways.

The official SDK (a dev dependency) serializes with azure.functions' `df_dumps` / `df_loads`; a payload
written by an app on the original extension must decode here and the other way round, for every form of
`to_json` / `from_json` the SDK accepts (instance, static and class methods).
"""

from __future__ import annotations

import json
import warnings
from typing import Any

import pytest
from azure.durable_functions.models.utils.df_serialization import df_dumps, df_loads

from durable_azure import serialization


class InstanceForm:
    """`to_json(self)` and a classmethod `from_json` (the SDK's documented form)."""

    def __init__(self, value: int) -> None:
        self.value = value

    def to_json(self) -> dict[str, int]:
        return {"value": self.value}

    @classmethod
    def from_json(cls, data: dict[str, int]) -> InstanceForm:
        return cls(data["value"])

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and vars(other) == vars(self)


class StaticForm(InstanceForm):
    """`@staticmethod to_json(obj)` / `from_json(text)`, the serialize_arguments sample's form."""

    @staticmethod
    def to_json(obj: object) -> str:  # type: ignore[override]
        assert isinstance(obj, StaticForm)
        return json.dumps(obj.value)

    @staticmethod
    def from_json(text: str) -> StaticForm:  # type: ignore[override]
        return StaticForm(json.loads(text))


class ClassForm(InstanceForm):
    """`@classmethod to_json(cls, obj)` / `from_json(cls, data)`."""

    @classmethod
    def to_json(cls, obj: object) -> list[int]:  # type: ignore[override]
        assert isinstance(obj, cls)
        return [obj.value]

    @classmethod
    def from_json(cls, data: list[int]) -> ClassForm:  # type: ignore[override]
        return cls(data[0])


class OnlyToJson:
    """No `from_json`: the SDK still writes it (e.g. as an orchestration output readers see as a dict)."""

    def to_json(self) -> dict[str, str]:
        return {"kind": "report"}


FORMS = [InstanceForm(1), StaticForm(2), ClassForm(3)]


def sdk_loads(text: str) -> Any:
    with warnings.catch_warnings():  # azure.functions' one-time advice about expected_type
        warnings.simplefilter("ignore", DeprecationWarning)
        return df_loads(text)


@pytest.mark.parametrize("value", FORMS, ids=lambda value: type(value).__name__)
def test_each_form_writes_the_sdk_text_exactly(value: InstanceForm) -> None:
    for payload in (value, {"nested": [value, None]}):
        assert serialization.dumps(payload) == df_dumps(payload)


@pytest.mark.parametrize("value", FORMS, ids=lambda value: type(value).__name__)
def test_what_durable_azure_writes_the_sdk_reads(value: InstanceForm) -> None:
    assert sdk_loads(serialization.dumps(value)) == value
    assert sdk_loads(serialization.dumps({"items": [value, 7]})) == {"items": [value, 7]}


@pytest.mark.parametrize("value", FORMS, ids=lambda value: type(value).__name__)
def test_what_the_sdk_writes_durable_azure_reads(value: InstanceForm) -> None:
    assert serialization.loads(df_dumps(value)) == value
    assert serialization.loads(df_dumps({"items": [value, "x"]})) == {"items": [value, "x"]}


def test_the_envelope_names_class_module_and_data() -> None:
    assert json.loads(serialization.dumps(StaticForm(5))) == {
        "__class__": "StaticForm",
        "__module__": __name__,
        "__data__": "5",
    }


def test_an_object_with_only_to_json_is_written_as_the_sdk_writes_it() -> None:
    text = serialization.dumps(OnlyToJson())
    assert text == df_dumps(OnlyToJson())
    assert serialization.loads(text) == {
        "__class__": "OnlyToJson",
        "__module__": __name__,
        "__data__": {"kind": "report"},
    }


def test_expected_type_decodes_an_envelope_whose_module_is_not_loaded() -> None:
    text = json.dumps({"__class__": "InstanceForm", "__module__": "app_not_loaded_here", "__data__": {"value": 9}})
    assert serialization.loads(text) == json.loads(text)  # no class to call: the plain dict
    assert serialization.loads(text, InstanceForm) == InstanceForm(9)
    assert serialization.loads(text, ClassForm) == json.loads(text)  # another class's payload is left alone
