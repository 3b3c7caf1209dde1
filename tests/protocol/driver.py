"""Episodes of an official-SDK orchestrator through the protocol executor, fed histories as the worker feeds them.

`SdkInstance` stands in for the worker: it keeps the history, runs an episode
with the new events it is given (an OrchestratorStarted first, as the worker
supplies), appends the episode's `new_history`, and by default builds a fresh
executor each time (an instance the worker did not cache), so every episode is
a full replay, as on the original.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Generator
from datetime import UTC, datetime, timedelta
from typing import Any

import azure.durable_functions as df

from durable_azure.history import ExecutionStarted, HistoryEvent, OrchestrationInstance, OrchestratorStarted
from durable_azure.orchestration import ExecutionResult
from durable_azure.protocol import ProtocolOrchestrationExecutor, SdkOrchestrator

START = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
INSTANCE_ID = "abc123"
EXECUTION_ID = "9f0c1a2b3c4d4e5f8a9b0c1d2e3f4a5b"


def at(seconds: float) -> datetime:
    return START + timedelta(seconds=seconds)


def official_client_input(value: Any) -> str:
    """The stored input of an instance the official client started: its JSON text, encoded once more (§7.3)."""
    return json.dumps(json.dumps(value))


class SdkInstance:
    def __init__(
        self,
        orchestrator: Callable[[Any], Generator[Any, Any, Any]],
        *,
        name: str = "orchestrator",
        stored_input: str | None = None,
        cache_executor: bool = False,
    ) -> None:
        self.name = name
        self.calls: list[dict[str, Any]] = []  # every trigger payload the SDK was handed
        handle = df.Orchestrator.create(orchestrator)

        def recording_handle(payload: str) -> object:
            self.calls.append(json.loads(payload))
            return handle(payload)

        self._orchestrators = {name: SdkOrchestrator(name, recording_handle)}
        self._cache = cache_executor
        self._executor: ProtocolOrchestrationExecutor | None = None
        self.history: list[HistoryEvent] = []
        self.started = ExecutionStarted(
            timestamp=at(0),
            orchestration_instance=OrchestrationInstance(instance_id=INSTANCE_ID, execution_id=EXECUTION_ID),
            name=name,
            version="",
            input=stored_input,
        )

    def start(self) -> ExecutionResult:
        return self.episode(self.started, seconds=0)

    def episode(self, *events: HistoryEvent, seconds: float) -> ExecutionResult:
        executor = self._executor if self._cache and self._executor is not None else self._new_executor()
        result = executor.execute(list(self.history), [OrchestratorStarted(timestamp=at(seconds)), *events])
        self.history += result.new_history
        return result

    def _new_executor(self) -> ProtocolOrchestrationExecutor:
        self._executor = ProtocolOrchestrationExecutor(self._orchestrators)
        return self._executor
