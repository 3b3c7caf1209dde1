"""An unmodified app's activities take their input and give their result through the Python worker's converter.

Under the Functions host, `azure.functions`' ActivityTriggerConverter turns the
input's JSON text into the argument (the SDK's `df_loads`, custom objects
included; text that is not JSON is passed on as a string, as a .NET caller's
plain string arrives) and the return value into JSON (`df_dumps`; a value it
cannot serialize fails the activity with its "must be json serializable"
message). The loader gives these to every activity declared with
azure.durable_functions (v2) or of a v1 app whose orchestrators are the SDK's,
so its activities see exactly what they saw there.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from azure.functions import meta
from azure.functions.durable_functions import ActivityTriggerConverter

from durable_azure.worker.registry import ActivityFunction


def decode_activity_input(input_text: str | None) -> Any:
    """The argument the worker's converter makes of `input_text` (no input: None)."""
    datum = meta.Datum(type="string", value="null" if input_text is None else input_text)
    return ActivityTriggerConverter.decode(datum, trigger_metadata=None)


def encode_activity_output(value: Any) -> str | None:
    """The result's JSON text as the worker's converter writes it."""
    encoded = ActivityTriggerConverter.encode(value, expected_type=None)
    return None if encoded is None or encoded.value is None else str(encoded.value)


def with_worker_converters(activity: ActivityFunction) -> ActivityFunction:
    """An unmodified app's activity, taking its input and giving its result through the worker's converter."""
    return replace(activity, decode_input=decode_activity_input, encode_output=encode_activity_output)
