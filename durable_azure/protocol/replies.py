"""The SDK's reply to an orchestration trigger (its OrchestratorState JSON), read as the extension reads it.

`{"isDone", "schemaVersion", "actions": [[...]], "output", "error", "customStatus"}`.
Schema V1 (no `schemaVersion`) lists one inner list per `yield`; V2 and V3 one
inner list holding an entry per yielded task, `task_all`/`task_any` as compound
actions. An orchestrator that raised does not return this: its handler raises
an exception whose text carries the state after a `$OutOfProcData$:` label;
`reply_from_failure` recovers it, so the actions scheduled before the failure
are still carried out, as the extension does.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

from durable_azure.errors import OrchestrationError

OUT_OF_PROC_DATA_LABEL = "$OutOfProcData$:"


class ReplyActionType(IntEnum):
    """The SDK's `ActionType` numbering."""

    CallActivity = 0
    CallActivityWithRetry = 1
    CallSubOrchestrator = 2
    CallSubOrchestratorWithRetry = 3
    ContinueAsNew = 4
    CreateTimer = 5
    WaitForExternalEvent = 6
    CallEntity = 7
    CallHttp = 8
    SignalEntity = 9
    ScheduledSignalEntity = 10
    WhenAny = 11
    WhenAll = 12


class ProtocolError(OrchestrationError):
    """The SDK's reply is not what the protocol allows (the extension fails the orchestration alike)."""


@dataclass(frozen=True, slots=True)
class ReplyAction:
    """One action of the reply: its type, its JSON members, and a compound action's children."""

    type: ReplyActionType
    fields: dict[str, Any]
    children: tuple[ReplyAction, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class OrchestratorReply:
    is_done: bool
    schema_version: int  # 0 = V1, 1 = V2, 2 = V3
    steps: tuple[tuple[ReplyAction, ...], ...]  # the outer list: one step per yield in V1, a single step from V2 on
    output: Any = None
    error: str | None = None
    custom_status: Any = None
    has_custom_status: bool = False
    raw_error: str | None = field(default=None)  # a failure the SDK reported without its state (no actions)


def json_object(returned: Any, what: str) -> dict[str, Any]:
    """A handler's return value as a JSON object (text or already parsed), or the extension's ProtocolError."""
    try:
        value = json.loads(returned) if isinstance(returned, str | bytes) else returned
    except ValueError as error:
        raise ProtocolError(f"Out of proc {what} must return a valid JSON schema: {error}") from None
    if not isinstance(value, dict):
        raise ProtocolError(f"Out of proc {what} must return a valid JSON schema")
    return value


def parse_reply(text: Any) -> OrchestratorReply:
    """Read the handler's return value; ProtocolError when it is not an OrchestratorState."""
    state = json_object(text, "orchestrators")
    schema = state.get("schemaVersion") or 0
    if not isinstance(schema, int) or schema not in (0, 1, 2):
        raise ProtocolError(f"unknown replay schema version {schema!r}")
    outer = state.get("actions") or []
    if not isinstance(outer, list) or not all(isinstance(step, list) for step in outer):
        raise ProtocolError("the orchestrator's actions must be a list of lists")
    if schema > 0 and len(outer) > 1:
        raise ProtocolError(f"replay schema V{schema + 1} expects one list of actions, got {len(outer)}")
    steps = tuple(tuple(_action(item) for item in step) for step in outer)
    failure = state.get("error")
    return OrchestratorReply(
        is_done=bool(state.get("isDone")),
        schema_version=schema,
        steps=steps,
        output=state.get("output"),
        error=str(failure) if failure else None,
        custom_status=state.get("customStatus"),
        has_custom_status="customStatus" in state,
    )


def reply_from_failure(error: BaseException) -> OrchestratorReply:
    """The state an orchestrator's exception carries, or a failure with the whole text when it has none."""
    text = str(error)
    head, label, data = text.partition(OUT_OF_PROC_DATA_LABEL)
    if label:
        try:
            reply = parse_reply(data)
        except ProtocolError:
            pass
        else:
            message = reply.error or head.rstrip("\n")
            return OrchestratorReply(
                is_done=reply.is_done,
                schema_version=reply.schema_version,
                steps=reply.steps,
                error=message,
                custom_status=reply.custom_status,
                has_custom_status=reply.has_custom_status,
            )
    return OrchestratorReply(is_done=False, schema_version=0, steps=(), raw_error=text or type(error).__name__)


def _action(item: Any) -> ReplyAction:
    if not isinstance(item, dict) or "actionType" not in item:
        raise ProtocolError(f"an action must be an object with an actionType, got {item!r}")
    try:
        action_type = ReplyActionType(item["actionType"])
    except ValueError:
        raise ProtocolError(f"Received an unexpected action type '{item['actionType']}'") from None
    children: tuple[ReplyAction, ...] = ()
    if action_type in (ReplyActionType.WhenAll, ReplyActionType.WhenAny):
        compound = item.get("compoundActions") or []
        if not isinstance(compound, list):
            raise ProtocolError("compoundActions must be a list")
        children = tuple(_action(child) for child in compound)
    return ReplyAction(action_type, item, children)
