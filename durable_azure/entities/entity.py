"""`Entity.create` and `EntityStateResponse`: the SDK's entry point for v1 entity functions, and a client reply."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from durable_azure.entities.entity_context import DurableEntityContext

ENTITY_FUNCTION_ATTRIBUTE = "_durable_entity_function"


class Entity:
    """azure.durable_functions' `Entity`: `main = Entity.create(fn)` in a v1 function folder."""

    def __init__(self, entity_func: Callable[[DurableEntityContext], Any]) -> None:
        self.fn = entity_func

    @classmethod
    def create(cls, fn: Callable[[DurableEntityContext], Any]) -> Callable[[DurableEntityContext], Any]:
        """A function the host recognises as the entity `fn`; called with a context it runs one operation."""

        def handle(context: DurableEntityContext) -> Any:
            return fn(context)

        setattr(handle, ENTITY_FUNCTION_ATTRIBUTE, fn)
        handle.__name__ = getattr(fn, "__name__", "entity")
        return handle


def entity_function_of(function: Callable[..., Any]) -> Callable[[DurableEntityContext], Any]:
    """The user's function behind `Entity.create` (ours or the SDK's wrapper), else `function` itself."""
    inner = getattr(function, ENTITY_FUNCTION_ATTRIBUTE, None)
    if inner is not None:
        return inner
    if isinstance(function, Entity):
        return function.fn
    return function


class EntityStateResponse:
    """What `read_entity_state` returns: whether the entity exists, and its state (None when it does not)."""

    def __init__(self, entity_exists: bool, entity_state: Any = None) -> None:
        self._entity_exists = entity_exists
        self._entity_state = entity_state

    @property
    def entity_exists(self) -> bool:
        return self._entity_exists

    @property
    def entity_state(self) -> Any:
        return self._entity_state

    def __repr__(self) -> str:
        return f"EntityStateResponse(entity_exists={self._entity_exists!r}, entity_state={self._entity_state!r})"
