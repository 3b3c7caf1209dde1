"""`azure.durable_functions.models.utils`'s path (apps import `EntityId` from `entity_utils`)."""
