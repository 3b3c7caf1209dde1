"""`context_parameter`: which parameter receives `func.Context`, as the Python worker decides."""

from __future__ import annotations

from typing import Any

import azure.functions as func

from durable_azure.functions.context import context_parameter


def annotated(value: Any, ctx: func.Context) -> None: ...


def by_name(value: Any, context) -> None: ...


def neither(value: Any, other: Any) -> None: ...


def test_annotated_func_context_under_any_name() -> None:
    # This module uses `from __future__ import annotations`: the annotation is the string "func.Context".
    assert context_parameter(annotated, {"value"}) == "ctx"


def test_the_real_class_as_annotation() -> None:
    def real(value: Any, invocation: Any) -> None: ...

    real.__annotations__["invocation"] = func.Context
    assert context_parameter(real, {"value"}) == "invocation"


def test_named_context_without_annotation() -> None:
    assert context_parameter(by_name, {"value"}) == "context"


def test_a_bound_parameter_is_never_the_context() -> None:
    assert context_parameter(by_name, {"value", "context"}) is None


def test_no_context_parameter() -> None:
    assert context_parameter(neither, {"value"}) is None
