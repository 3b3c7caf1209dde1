"""`func.Context`, as the Python worker fills it for a function that declares a context parameter.

The trace context is a fresh W3C traceparent per invocation (no tracing is wired yet); the retry context says
"first try, no retry policy", which is what the host reports for functions without a retry policy.
"""

from __future__ import annotations

import inspect
import threading
import uuid
from collections.abc import Callable, Collection
from typing import Any

import azure.functions as func
from azure.functions._abc import RetryContext as AbstractRetryContext
from azure.functions._abc import RpcException  # the type func.RetryContext.exception is declared with
from azure.functions._abc import TraceContext as AbstractTraceContext


class TraceContext(AbstractTraceContext):
    def __init__(self, trace_parent: str, trace_state: str = "", attributes: dict[str, str] | None = None) -> None:
        self._trace_parent = trace_parent
        self._trace_state = trace_state
        self._attributes = dict(attributes or {})

    @property
    def trace_parent(self) -> str:
        return self._trace_parent

    @property
    def trace_state(self) -> str:
        return self._trace_state

    @property
    def attributes(self) -> dict[str, str]:
        return self._attributes


class RetryContext(AbstractRetryContext):
    def __init__(self, retry_count: int = 0, max_retry_count: int = 0) -> None:
        self._retry_count = retry_count
        self._max_retry_count = max_retry_count

    @property
    def retry_count(self) -> int:
        return self._retry_count

    @property
    def max_retry_count(self) -> int:
        return self._max_retry_count

    @property
    def exception(self) -> RpcException:
        raise AttributeError("no exception: this is the function's first try")


class InvocationContext(func.Context):
    def __init__(self, invocation_id: str, function_name: str, function_directory: str) -> None:
        self._invocation_id = invocation_id
        self._function_name = function_name
        self._function_directory = function_directory
        self._thread_local = threading.local()
        self._thread_local.invocation_id = invocation_id
        self._trace = TraceContext(f"00-{uuid.uuid4().hex}-{uuid.uuid4().hex[:16]}-01")
        self._retry = RetryContext()

    @property
    def invocation_id(self) -> str:
        return self._invocation_id

    @property
    def thread_local_storage(self) -> threading.local:  # type: ignore[override]
        return self._thread_local

    @property
    def function_name(self) -> str:
        return self._function_name

    @property
    def function_directory(self) -> str:
        return self._function_directory

    @property
    def trace_context(self) -> TraceContext:
        return self._trace

    @property
    def retry_context(self) -> RetryContext:
        return self._retry


def context_parameter(function: Callable[..., Any], bound: Collection[str]) -> str | None:
    """The parameter that receives the invocation context: annotated `func.Context`, or named `context`, and
    not already bound (to the trigger or another binding), as the Python worker decides."""
    for parameter in inspect.signature(function).parameters.values():
        if parameter.name in bound:
            continue
        annotation = parameter.annotation
        named = isinstance(annotation, str) and annotation.rpartition(".")[2] == "Context"
        if annotation is func.Context or named or parameter.name == "context":
            return parameter.name
    return None


__all__ = ["InvocationContext", "RetryContext", "TraceContext", "context_parameter"]
