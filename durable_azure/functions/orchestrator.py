"""`Orchestrator.create`, the wrapper function.json apps put around their orchestrator.

With azure.durable_functions, `main = df.Orchestrator.create(orchestrator_function)` turns a generator function
into the handler the .NET host calls with a JSON context. Our worker runs generator functions itself, so
`create` hands the function back unchanged; v1 apps keep their line as written.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class Orchestrator:
    """Namespace of `create`, as in azure.durable_functions."""

    @staticmethod
    def create(fn: Callable[..., Any]) -> Callable[..., Any]:
        """The orchestrator function itself: the worker calls it with the orchestration context."""
        return fn
