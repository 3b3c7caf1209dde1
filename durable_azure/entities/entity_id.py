"""`EntityId`: an entity's name and key, and its scheduler id `@name@key`, as Durable Functions forms them.

The scheduler id is the instance id of the task hub instance that holds the
entity: the name lower-cased (entity names compare without case, as function
names do), the key verbatim. Parsing splits at the first `@` after the leading
one, so keys may contain `@` (the extension's rule; the Python SDK refuses them
when parsing, we do not).
"""

from __future__ import annotations

import re
from typing import Any

_FORBIDDEN_KEY = re.compile(r"[/\\?#\x00-\x1f\x7f]")


class EntityId:
    """Identifies an entity by name and key (azure.durable_functions' `EntityId`, same methods)."""

    __slots__ = ("key", "name")

    def __init__(self, name: str, key: str) -> None:
        if not isinstance(name, str) or name == "":
            raise ValueError("Entity name cannot be empty")
        if not isinstance(key, str) or key == "":
            raise ValueError("Entity key cannot be empty")
        if "@" in name:
            raise ValueError(f"Entity name {name!r} must not contain '@'")
        self.name: str = name
        self.key: str = key

    @staticmethod
    def get_scheduler_id(entity_id: EntityId) -> str:
        """`@name@key`, the entity's instance id in the task hub (name lower-cased)."""
        return f"@{entity_id.name.lower()}@{entity_id.key}"

    @staticmethod
    def get_entity_id(scheduler_id: str) -> EntityId:
        """The EntityId of a scheduler id; ValueError when it is not `@name@key`."""
        if not is_entity_instance(scheduler_id):
            raise ValueError(f"Unexpected format in SchedulerId: {scheduler_id!r}")
        name, _, key = scheduler_id[1:].partition("@")
        return EntityId(name, key)

    @staticmethod
    def get_entity_id_url_path(entity_id: EntityId) -> str:
        return f"entities/{entity_id.name}/{entity_id.key}"

    def to_json(self) -> dict[str, str]:
        return {"name": self.name, "key": self.key}

    @classmethod
    def from_json(cls, value: Any) -> EntityId:
        if (
            not isinstance(value, dict)
            or not isinstance(value.get("name"), str)
            or not isinstance(value.get("key"), str)
        ):
            raise ValueError(f"an entity id is {{'name': ..., 'key': ...}}, got {value!r}")
        return cls(value["name"], value["key"])

    def __str__(self) -> str:
        return EntityId.get_scheduler_id(self)

    def __repr__(self) -> str:
        return f"EntityId({self.name!r}, {self.key!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, EntityId) and self.name.lower() == other.name.lower() and self.key == other.key

    def __hash__(self) -> int:
        return hash((self.name.lower(), self.key))


def is_entity_instance(instance_id: str) -> bool:
    """Whether an instance id is an entity's: `@name@key` (DTFx routes any `@` id to the entity scheduler)."""
    return len(instance_id) > 2 and instance_id[0] == "@" and "@" in instance_id[2:]


def check_entity_key(key: str) -> None:
    """Refuse keys the extension refuses for signals (`/ \\ ? #` or control characters): they break URLs."""
    if _FORBIDDEN_KEY.search(key):
        raise ValueError(f"Entity keys must not contain /, \\, ?, # or control characters: {key!r}")


def as_entity_id(value: Any) -> EntityId:
    """An EntityId from ours, the official SDK's (duck-typed: `.name`, `.key`) or a scheduler id string."""
    if isinstance(value, EntityId):
        return value
    if isinstance(value, str):
        return EntityId.get_entity_id(value)
    name, key = getattr(value, "name", None), getattr(value, "key", None)
    if isinstance(name, str) and isinstance(key, str):
        return EntityId(name, key)
    raise TypeError(f"expected an EntityId, got {type(value).__name__}")
