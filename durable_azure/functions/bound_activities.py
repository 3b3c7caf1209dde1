"""Activities with bindings besides their trigger (a queue or blob output, a table input, a client, ...).

The worker calls an activity with its input only; an activity that declares other bindings is handed to the
worker wrapped, so its call goes through `invocation.py` like any other function's: inputs read before,
outputs written after it returned, and only then is its result (the return value) reported to the
orchestration. A failed output write fails the activity, which the orchestration sees as a TaskFailed.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from durable_azure.functions.indexing import AppIndex, InvocationServices, TriggeredFunction
from durable_azure.functions.invocation import invoke
from durable_azure.worker.registry import ActivityFunction, Registry


def registry_with_bindings(index: AppIndex, services: InvocationServices) -> Registry:
    """The app's registry, with each bound activity replaced by a wrapper that fills its bindings."""
    if not index.bound_activities:
        return index.registry
    activities = dict(index.registry.activities)
    for name, function in index.bound_activities.items():
        activities[name] = _wrapped(name, function, services)
    return dataclasses.replace(index.registry, activities=activities)


def _wrapped(name: str, function: TriggeredFunction, services: InvocationServices) -> ActivityFunction:
    async def run_with_bindings(**arguments: Any) -> Any:
        return await invoke(function, arguments[function.trigger_name], services)

    run_with_bindings.__name__ = getattr(function.function, "__name__", name)
    return ActivityFunction(name=name, function=run_with_bindings, input_name=function.trigger_name)


__all__ = ["registry_with_bindings"]
