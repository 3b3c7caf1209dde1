"""`azure.durable_functions.models.utils.entity_utils`'s path: `EntityId`."""

from __future__ import annotations

from durable_azure.entities import EntityId

__all__ = ["EntityId"]
