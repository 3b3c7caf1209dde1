"""Entities of an unmodified app: the SDK's `Entity.create` handler, one call per batch (EXT `TaskEntityShim`).

The trigger JSON is `{"self": {"name", "key"}, "exists", "state", "batch":
[{"name", "input", "isSignal"}]}` with the state and inputs as stored (JSON
text; inputs from Python callers are JSON text encoded once more, which the SDK's
`get_input` decodes twice). The reply is `{"entityExists", "entityState",
"results": [{"isError", "result"}], "signals": []}`, one result per operation.
A reply that is not that, or a handler that raises, fails the whole batch: the
worker retries its messages with backoff, as the extension aborts the work item.
A failed operation's result is its message as a JSON string; the callers'
responses carry `exceptionType: "Error"`, the extension's word for it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence

from durable_azure.entities import BatchEntity, BatchOutcome, EntityId, RequestMessage
from durable_azure.protocol.replies import ProtocolError, json_object


class SdkEntity(BatchEntity):
    def __init__(self, name: str, handle: Callable[[str], object]) -> None:
        self.name = name
        self.handle = handle

    def run_batch(
        self, entity: EntityId, exists: bool, state: str | None, operations: Sequence[RequestMessage]
    ) -> BatchOutcome:
        payload = {
            "self": {"name": entity.name, "key": entity.key},
            "exists": exists,
            "state": state,
            "batch": [
                {"name": request.operation, "input": request.input, "isSignal": request.is_signal}
                for request in operations
            ],
        }
        reply = json_object(self.handle(json.dumps(payload)), "entities")
        results = reply.get("results")
        if not isinstance(results, list) or not all(isinstance(result, dict) for result in results):
            raise ProtocolError(f"entity '{entity.name}' returned no list of results")
        exists_after = bool(reply.get("entityExists"))
        state_after = reply.get("entityState")
        return BatchOutcome(
            exists=exists_after,
            state=state_after if isinstance(state_after, str) else None,
            results=tuple((bool(result.get("isError")), _text(result.get("result"))) for result in results),
        )


def _text(value: object) -> str | None:
    return value if isinstance(value, str) or value is None else json.dumps(value)
