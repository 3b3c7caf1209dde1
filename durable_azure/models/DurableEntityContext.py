"""`azure.durable_functions.models.DurableEntityContext`'s path: what an entity function receives."""

from __future__ import annotations

from durable_azure.entities import DurableEntityContext

__all__ = ["DurableEntityContext"]
