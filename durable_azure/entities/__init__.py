"""Durable entities: the third function type, run by a pure scheduler like orchestrations by the replay engine.

An entity `@name@key` is an instance of the task hub whose batches the
`EntityExecutor` runs; the worker treats it like an orchestration otherwise.
Messages and stored state are the extension's (see messages.py, scheduler_state.py).
"""

from durable_azure.entities.entity import Entity, EntityStateResponse, entity_function_of
from durable_azure.entities.entity_context import DurableEntityContext, decode_operation_input, encode_operation_input
from durable_azure.entities.entity_id import EntityId, as_entity_id, check_entity_key, is_entity_instance
from durable_azure.entities.messages import (
    CONTINUE_EVENT,
    LOCK_GRANTED,
    MIN_TIME,
    OPERATION_EVENT,
    RELEASE_EVENT,
    OutgoingStamps,
    ReleaseMessage,
    RequestMessage,
    ResponseMessage,
    continue_event_name,
    delivery_time,
    delivery_time_of,
    next_stamp,
    scheduled_event_name,
)
from durable_azure.entities.scheduler import (
    DEFAULT_MAX_BATCH,
    BatchEntity,
    BatchOutcome,
    EntityExecutor,
    EntityFunction,
    EntityOptions,
)
from durable_azure.entities.scheduler_state import REORDER_WINDOW, SchedulerState, stored_entity_state

__all__ = [
    "CONTINUE_EVENT",
    "DEFAULT_MAX_BATCH",
    "LOCK_GRANTED",
    "MIN_TIME",
    "OPERATION_EVENT",
    "RELEASE_EVENT",
    "REORDER_WINDOW",
    "BatchEntity",
    "BatchOutcome",
    "DurableEntityContext",
    "Entity",
    "EntityExecutor",
    "EntityFunction",
    "EntityId",
    "EntityOptions",
    "EntityStateResponse",
    "OutgoingStamps",
    "ReleaseMessage",
    "RequestMessage",
    "ResponseMessage",
    "SchedulerState",
    "as_entity_id",
    "check_entity_key",
    "continue_event_name",
    "decode_operation_input",
    "delivery_time",
    "delivery_time_of",
    "encode_operation_input",
    "entity_function_of",
    "is_entity_instance",
    "next_stamp",
    "scheduled_event_name",
    "stored_entity_state",
]
