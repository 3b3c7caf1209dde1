"""The orchestration trigger's JSON, as the extension builds it for an out-of-process orchestrator.

The SDK replays the user's generator over `history`: every event of the
current execution, past and new, in the DTFx JSON shape (PascalCase members,
`EventType` as an int, times with `Z`). Past events carry `IsPlayed: true`, this
episode's `false`, as DTFx persists the flag. `input` is the stored input
decoded once (so an input the official client sent, stored JSON-encoded twice,
arrives as its JSON text, which the SDK decodes). The two schema fields ask for
replay schema V3 from SDKs that know it (V2 from 1.1.x, which reject V3), and the
two durations are the Azure Storage provider's timer limits (V3 splits longer
timers into chunks of three days).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from durable_azure.history import ExecutionStarted, HistoryEvent
from durable_azure.history.codec import to_json

UPPER_SCHEMA_VERSION = 1  # V2: what SDK 1.1.0-1.1.3 accept
UPPER_SCHEMA_VERSION_NEW = 2  # V3: long timers split by the SDK (1.3.0+)
LONG_RUNNING_TIMER_INTERVAL = timedelta(days=3)  # the provider's LongRunningTimerIntervalLength
MAXIMUM_SHORT_TIMER = timedelta(days=6)  # the provider's MaximumDelayTime (queue visibility is 7 days)


def trigger_payload(
    events: Sequence[tuple[HistoryEvent, bool]], *, started: ExecutionStarted, http_poll_interval: timedelta
) -> str:
    """The trigger JSON for `events`: (event, whether it is a replayed one) pairs."""
    history: list[dict[str, Any]] = []
    is_replaying = False
    for event, is_played in events:
        fields = to_json(event)
        fields["IsPlayed"] = is_played
        history.append(fields)
        if event is started:
            is_replaying = is_played
    parent = started.parent_instance
    payload = {
        "history": history,
        "input": None if started.input is None else json.loads(started.input),
        "instanceId": started.orchestration_instance.instance_id,
        "isReplaying": is_replaying,
        "parentInstanceId": parent.orchestration_instance.instance_id if parent is not None else None,
        "upperSchemaVersion": UPPER_SCHEMA_VERSION,
        "upperSchemaVersionNew": UPPER_SCHEMA_VERSION_NEW,
        "longRunningTimerIntervalDuration": timespan_text(LONG_RUNNING_TIMER_INTERVAL),
        "maximumShortTimerDuration": timespan_text(MAXIMUM_SHORT_TIMER),
        "defaultHttpAsyncRequestSleepTimeMillseconds": int(http_poll_interval / timedelta(milliseconds=1)),
    }
    return json.dumps(payload)


def timespan_text(value: timedelta) -> str:
    """.NET TimeSpan text, `[d.]hh:mm:ss[.fffffff]`, as the SDK's parser expects it."""
    total_seconds, microseconds = divmod(value // timedelta(microseconds=1), 1_000_000)
    days, rest = divmod(total_seconds, 86_400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    text = f"{hours:02d}:{minutes:02d}:{seconds:02d}"
    if days:
        text = f"{days}.{text}"
    if microseconds:
        text += f".{microseconds:06d}0"
    return text
