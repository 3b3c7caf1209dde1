"""Binding metadata for the Durable Functions triggers and the client input binding.

These classes must serialise exactly as azure.durable_functions' binding classes do (type names
`orchestrationTrigger`, `activityTrigger`, `entityTrigger`, `durableClient`; snake_case parameters become
camelCase fields; None fields omitted), because the function metadata of an app is what tools and hosts
index. azure.functions builds the JSON from each class's `__init__` parameter names, so those names are
part of the format and must not be renamed.
"""

from __future__ import annotations

from azure.functions.decorators.core import InputBinding, Trigger

ORCHESTRATION_TRIGGER = "orchestrationTrigger"
ACTIVITY_TRIGGER = "activityTrigger"
ENTITY_TRIGGER = "entityTrigger"
DURABLE_CLIENT = "durableClient"


class OrchestrationTrigger(Trigger):
    """`orchestrationTrigger`: `name` is the parameter receiving the context; `orchestration` overrides the name."""

    @staticmethod
    def get_binding_name() -> str:
        return ORCHESTRATION_TRIGGER

    def __init__(self, name: str, orchestration: str | None = None) -> None:
        self.orchestration = orchestration
        super().__init__(name=name)


class ActivityTrigger(Trigger):
    """`activityTrigger`: `name` is the parameter receiving the input; `activity` overrides the name."""

    @staticmethod
    def get_binding_name() -> str:
        return ACTIVITY_TRIGGER

    def __init__(self, name: str, activity: str | None = None) -> None:
        self.activity = activity
        super().__init__(name=name)


class EntityTrigger(Trigger):
    """`entityTrigger`: `name` is the parameter receiving the entity context; `entity_name` overrides the name."""

    @staticmethod
    def get_binding_name() -> str:
        return ENTITY_TRIGGER

    def __init__(self, name: str, entity_name: str | None = None) -> None:
        self.entity_name = entity_name
        super().__init__(name=name)


class DurableClient(InputBinding):
    """`durableClient` input: `task_hub` and `connection_name` select another task hub or storage account."""

    @staticmethod
    def get_binding_name() -> str:
        return DURABLE_CLIENT

    def __init__(self, name: str, task_hub: str | None = None, connection_name: str | None = None) -> None:
        self.task_hub = task_hub
        self.connection_name = connection_name
        super().__init__(name=name)
