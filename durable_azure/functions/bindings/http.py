"""The `http` output: the response of an HTTP function, read by `http_invocation.py`, never written to storage."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from durable_azure.errors import ConfigurationError
from durable_azure.functions.bindings import Write, register
from durable_azure.functions.indexing import BindingSpec

if TYPE_CHECKING:
    from durable_azure.functions.invocation import Invocation


class HttpOutputBinding:
    def check(self, function_name: str, binding: BindingSpec) -> None:
        return None

    async def read(self, invocation: Invocation, binding: BindingSpec) -> Any:
        raise ConfigurationError(f"binding {binding.name!r}: http is an output binding")

    async def plan(self, invocation: Invocation, binding: BindingSpec, value: Any) -> Write | None:
        return None


register("http", "out", HttpOutputBinding())
