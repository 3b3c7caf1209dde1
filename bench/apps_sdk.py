"""W1 and W4's orchestrations written against azure.durable_functions, run unmodified through the SDK's protocol.

The same shapes as `bench/apps.py` (and the same activities), so the two paths' figures differ only by the
engine: the SDK replaying the whole history every episode, or the native engine applying new events only.
"""

from __future__ import annotations

import azure.durable_functions as df

from bench import apps
from durable_azure.protocol import SdkOrchestrator
from durable_azure.worker import Registry


def hello_sequence(context: df.DurableOrchestrationContext):
    """W1u: three activities one after another."""
    return [
        (yield context.call_activity("say_hello", "Tokyo")),
        (yield context.call_activity("say_hello", "Seattle")),
        (yield context.call_activity("say_hello", "London")),
    ]


def long_sequence(context: df.DurableOrchestrationContext):
    """W4u: `count` sequential activities (the input arrives as the JSON text the official client sends)."""
    total = 0
    for index in range(context.get_input()):
        total += yield context.call_activity("double", index)
    return total


def registry() -> Registry:
    native = apps.registry()
    orchestrators = {
        function.__name__: SdkOrchestrator(function.__name__, df.Orchestrator.create(function))
        for function in (hello_sequence, long_sequence)
    }
    return Registry(sdk_orchestrators=orchestrators, activities=native.activities)
