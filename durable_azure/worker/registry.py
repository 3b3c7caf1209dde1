"""What a worker can run: orchestrators, activities and entities by name.

The Functions face (`functions/`) builds one of these from a `DFApp`; the worker
only sees this, so it never imports anything above its layer.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from durable_azure.entities import EntityFunction
from durable_azure.errors import ConfigurationError
from durable_azure.orchestration.http import HTTP_ACTIVITY_NAME
from durable_azure.protocol import SdkOrchestrator


@dataclass(frozen=True, slots=True, kw_only=True)
class ActivityFunction:
    """A user activity and the parameter name that receives its input (`input_name`)."""

    name: str
    function: Callable[..., Any]
    input_name: str | None = None
    decode_input: Callable[[str | None], Any] | None = None
    """How the input's JSON text becomes the argument; None: this project's serializer. An unmodified app's
    activities get the Python worker's converter (`azure.functions`), as under the Functions host."""
    encode_output: Callable[[Any], str | None] | None = None
    """How the return value becomes the result's JSON text; None: this project's serializer."""

    @property
    def is_async(self) -> bool:
        return inspect.iscoroutinefunction(self.function)


@dataclass(frozen=True, slots=True, kw_only=True)
class Registry:
    orchestrators: Mapping[str, Callable[..., Any]] = field(default_factory=dict)
    activities: Mapping[str, ActivityFunction] = field(default_factory=dict)
    entities: Mapping[str, EntityFunction] = field(default_factory=dict)
    """Entity functions by lower-cased name: the extension looks entities up without case."""
    sdk_orchestrators: Mapping[str, SdkOrchestrator] = field(default_factory=dict)
    """Orchestrators of an unmodified app (`import azure.durable_functions`), run through the SDK's protocol."""

    def __post_init__(self) -> None:
        if self.orchestrators and self.sdk_orchestrators:
            native, official = sorted(self.orchestrators)[0], sorted(self.sdk_orchestrators)[0]
            raise ConfigurationError(
                f"the app mixes orchestrators of durable_azure ('{native}') and of azure.durable_functions "
                f"('{official}'): one app uses one SDK; port every orchestrator (change the import) or none"
            )
        # The extension reserves the built-in HTTP activity's name (case-insensitively) for call_http.
        for name in (*self.orchestrators, *self.sdk_orchestrators, *self.activities, *self.entities):
            if name.lower() == HTTP_ACTIVITY_NAME.lower():
                raise ConfigurationError(f"function name '{name}' is reserved by Durable Functions for call_http")
        for name, function in self.entities.items():
            # The scheduler runs a batch's operations in one go, as the SDK does: it cannot await one.
            if inspect.iscoroutinefunction(function) or inspect.isgeneratorfunction(function):
                raise ConfigurationError(
                    f"entity function '{name}' must be a plain function (def, not async def or a generator): "
                    "entity operations run synchronously, as in azure.durable_functions"
                )
