"""What a worker can run: orchestrators and activities by name.

The Functions face (`functions/`) builds one of these from a `DFApp`; the worker
only sees this, so it never imports anything above its layer.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True, kw_only=True)
class ActivityFunction:
    """A user activity and the parameter name that receives its input (`input_name`)."""

    name: str
    function: Callable[..., Any]
    input_name: str | None = None

    @property
    def is_async(self) -> bool:
        return inspect.iscoroutinefunction(self.function)


@dataclass(frozen=True, slots=True, kw_only=True)
class Registry:
    orchestrators: Mapping[str, Callable[..., Any]] = field(default_factory=dict)
    activities: Mapping[str, ActivityFunction] = field(default_factory=dict)
