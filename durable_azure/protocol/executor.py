"""`ProtocolOrchestrationExecutor`: an episode of an orchestrator written with the official SDK.

Same contract as the native `OrchestrationExecutor` ((history, new events) ->
actions and status), so the worker runs, caches and checkpoints both alike.
Each episode calls the SDK's handler once with the whole current execution
(the SDK replays the user's generator from the top every time), then replays
its reply through a fresh native executor running the shim (shim.py), which
matches the actions against history and yields this episode's new ones.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from durable_azure.errors import OrchestrationError
from durable_azure.history import ExecutionResumed, ExecutionStarted, ExecutionSuspended, HistoryEvent
from durable_azure.orchestration import ExecutionResult, OrchestrationExecutor
from durable_azure.orchestration.executor import APPLIED_WHILE_SUSPENDED
from durable_azure.orchestration.http import HttpSettings
from durable_azure.protocol.payload import trigger_payload
from durable_azure.protocol.replies import OrchestratorReply, ProtocolError, parse_reply, reply_from_failure
from durable_azure.protocol.shim import ShimFunction, shim_for


@dataclass(frozen=True, slots=True)
class SdkOrchestrator:
    """An orchestrator of an unmodified app: the SDK's handler (`Orchestrator.create(fn)`), called with the
    trigger JSON; it returns the reply JSON, or raises an exception whose text carries it."""

    name: str
    handle: Callable[[str], object]


class ProtocolOrchestrationExecutor:
    """Runs SDK orchestrators; keeps nothing between episodes but the settings (the SDK replays anyway)."""

    def __init__(self, orchestrators: Mapping[str, SdkOrchestrator], *, http_settings: HttpSettings | None = None):
        self._orchestrators = orchestrators
        self._http_settings = http_settings or HttpSettings()
        self._seen = 0

    def execute(self, history: Sequence[HistoryEvent], new_events: Sequence[HistoryEvent]) -> ExecutionResult:
        if self._seen and len(history) != self._seen:
            # The native executor's check: a cached executor is only given the history it has seen.
            raise OrchestrationError(f"history has {len(history)} events but this executor has seen {self._seen}")
        events = [*history, *new_events]
        started = next((event for event in events if isinstance(event, ExecutionStarted)), None)
        # Unknown names (and events before any start) go to the native executor as they are: it reports them.
        orchestrators: dict[str, ShimFunction] = {}
        if started is not None and started.name in self._orchestrators:
            reply = self._call(self._orchestrators[started.name], events, len(history), started)
            orchestrators[started.name] = shim_for(reply)
        result = OrchestrationExecutor(orchestrators, http_settings=self._http_settings).execute(history, new_events)
        self._seen = len(history) + len(result.new_history)
        return result

    def _call(
        self, orchestrator: SdkOrchestrator, events: list[HistoryEvent], played: int, started: ExecutionStarted
    ) -> OrchestratorReply:
        visible = _visible_to_sdk([(event, index < played) for index, event in enumerate(events)])
        try:
            payload = trigger_payload(
                visible, started=started, http_poll_interval=self._http_settings.default_async_request_sleep_time
            )
        except ValueError as error:  # an input that is not JSON (written by another client): fail, do not retry
            return OrchestratorReply(
                is_done=False, schema_version=0, steps=(), raw_error=f"the instance's input is not JSON: {error}"
            )
        try:
            returned = orchestrator.handle(payload)
        except Exception as error:  # the user's orchestrator raised, or the SDK did: the extension's two cases
            return reply_from_failure(error)
        try:
            return parse_reply(returned)
        except ProtocolError as error:
            return OrchestratorReply(is_done=False, schema_version=0, steps=(), raw_error=str(error))


def _visible_to_sdk(events: list[tuple[HistoryEvent, bool]]) -> list[tuple[HistoryEvent, bool]]:
    """The history the SDK may see: while the instance is suspended, the outcomes that arrived since wait.

    The engine holds such events (task results, fired timers, raised events)
    until ExecutionResumed; the SDK, which knows nothing of suspension, would
    otherwise move the orchestration on with them. After the resume they are
    shown where they arrived, and the engine applies them after the resume.
    """
    suspended_at = None
    for index, (event, _) in enumerate(events):
        if isinstance(event, ExecutionSuspended) and suspended_at is None:
            suspended_at = index
        elif isinstance(event, ExecutionResumed):
            suspended_at = None
    if suspended_at is None:
        return events
    later = [pair for pair in events[suspended_at:] if type(pair[0]) in APPLIED_WHILE_SUSPENDED]
    return [*events[:suspended_at], *later]
