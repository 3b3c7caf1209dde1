"""`azure.durable_functions.models.EntityStateResponse`'s path: what `read_entity_state` returns."""

from __future__ import annotations

from durable_azure.entities import EntityStateResponse

__all__ = ["EntityStateResponse"]
