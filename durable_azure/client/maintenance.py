"""Multi-row storage sequences on finished instances: rewind and purge. Part of the client layer.

They are the client's only writes to history, so their ordering is spelled
out here: a rewind rewrites every affected history (sentinel-guarded) before it
wakes any instance, and a purge deletes the Instances row last, so one cut
short stays visible and can simply be repeated.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from durable_azure.azure_storage import LoadedHistory, MessageData, TaskHub
from durable_azure.client.rewind import rewind_history
from durable_azure.history import GenericEvent, HistoryEvent, OrchestrationInstance, OrchestrationStatus


@dataclass(frozen=True, slots=True, kw_only=True)
class RewindStep:
    """One instance of a rewind: its loaded history (ETag, execution id) and the rewritten events."""

    instance_id: str
    loaded: LoadedHistory
    events: list[HistoryEvent]


async def rewind_instance(hub: TaskHub, instance_id: str, reason: str) -> list[str]:
    """Rewind a Failed instance and its failed sub-orchestrations; returns the ids rewound (parent first).

    All histories are written before any GenericEvent wakes a worker, so a
    rewound child can never report to a parent whose history still says Failed.
    """
    steps = await _plan(hub, instance_id, reason, seen=set())
    now = datetime.now(UTC)
    for step in steps:
        await hub.history.append(
            step.instance_id,
            execution_id=step.loaded.execution_id or "",
            start_index=0,
            events=step.events,
            etag=step.loaded.etag,
        )
        await hub.instances.update(
            step.instance_id, runtime_status=OrchestrationStatus.Running, output="", last_updated_time=now
        )
    for step in steps:
        wake_up = MessageData(
            event=GenericEvent(timestamp=now, data=f"Rewound: {reason}"),
            instance=OrchestrationInstance(instance_id=step.instance_id),
        )
        await hub.control_queue_for(step.instance_id).send(wake_up)
    return [step.instance_id for step in steps]


async def _plan(hub: TaskHub, instance_id: str, reason: str, *, seen: set[str]) -> list[RewindStep]:
    seen.add(instance_id)
    loaded = await hub.history.load(instance_id)
    rewound = rewind_history(loaded.events, reason)
    steps = [RewindStep(instance_id=instance_id, loaded=loaded, events=rewound.events)]
    for child_id in rewound.failed_sub_orchestration_ids:
        if child_id in seen:
            continue
        child = await hub.instances.get(child_id, include_input=False)
        if child is not None and child.runtime_status == OrchestrationStatus.Failed:
            steps += await _plan(hub, child_id, reason, seen=seen)
    return steps


async def purge_instance(hub: TaskHub, instance_id: str) -> int:
    """History rows and large-message blobs first, the Instances row last; returns 1 if the row was there."""
    await hub.history.delete(instance_id)
    return 1 if await hub.instances.delete(instance_id) else 0
