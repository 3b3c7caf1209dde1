"""The module path `azure.durable_functions.models.FunctionContext`: the context's `function_context`.

Re-exported from `durable_azure.orchestration.context`.
"""

from __future__ import annotations

from durable_azure.orchestration.context import FunctionContext

__all__ = ["FunctionContext"]
