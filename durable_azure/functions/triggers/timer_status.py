"""The timer's schedule status blob (`useMonitor`), in the host's place and shape, and the past-due check.

The host records each timer's last and next occurrence in
`azure-webjobs-hosts/timers/{hostId}/Host.Functions.{function}/status`, JSON `{"Last", "Next",
"LastUpdated"}` with ISO dates in the schedule's local time (`Last` is .NET's default date,
`0001-01-01T00:00:00`, until the first run). A host starting after downtime compares `Next` with the clock:
an occurrence it missed is run once, at once, with `past_due` true. We read and write the same blob, so a
Functions host and durable-azure on one storage account agree on what was missed.

The codec and `check_past_due` are pure; `StatusStore` makes the two requests (download, upload).
Writes are best effort, as the host's: a failed write is logged, never fails the invocation.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import logging
import re
from dataclasses import dataclass
from typing import Any

from durable_azure.azure_storage.blob_service import BlobService
from durable_azure.errors import StorageError
from durable_azure.functions.triggers.schedule import TimerSchedule
from durable_azure.functions.triggers.singleton import HOSTS_CONTAINER

logger = logging.getLogger(__name__)

NEVER = "0001-01-01T00:00:00"
"""How .NET writes a DateTime never set: the status's `Last` before the first run."""
_FRACTION = re.compile(r"\.(\d+)")


def status_blob_name(host_id: str, function_name: str) -> str:
    return f"timers/{host_id}/Host.Functions.{function_name}/status"


@dataclass(frozen=True, slots=True, kw_only=True)
class ScheduleStatus:
    """The last run and the expected next occurrence of one timer (aware datetimes; None = never)."""

    last: datetime.datetime | None
    next: datetime.datetime
    last_updated: datetime.datetime | None

    def to_json(self, time_zone: datetime.tzinfo) -> dict[str, str]:
        """The host's JSON object (also what `TimerRequest.schedule_status` holds)."""
        return {
            "Last": format_time(self.last, time_zone),
            "Next": format_time(self.next, time_zone),
            "LastUpdated": format_time(self.last_updated, time_zone),
        }

    @classmethod
    def from_json(cls, document: Any, time_zone: datetime.tzinfo) -> ScheduleStatus:
        """ValueError when `document` is not a status object."""
        if not isinstance(document, dict):
            raise ValueError("not a JSON object")
        next_time = parse_time(document.get("Next"), time_zone)
        if next_time is None:
            raise ValueError("no Next")
        return cls(
            last=parse_time(document.get("Last"), time_zone),
            next=next_time,
            last_updated=parse_time(document.get("LastUpdated"), time_zone),
        )


def format_time(moment: datetime.datetime | None, time_zone: datetime.tzinfo) -> str:
    """ISO 8601 in the schedule's zone, with .NET's up-to-seven fraction digits ("2026-12-02T16:05:00+00:00")."""
    if moment is None:
        return NEVER
    local = moment.astimezone(time_zone)
    text = local.strftime("%Y-%m-%dT%H:%M:%S")
    fraction = f"{local.microsecond * 10:07d}".rstrip("0")
    offset = local.strftime("%z")
    return f"{text}{'.' + fraction if fraction else ''}{offset[:3]}:{offset[3:]}"


def parse_time(value: Any, time_zone: datetime.tzinfo) -> datetime.datetime | None:
    """A status date; None for .NET's never; a date without offset is in the schedule's zone."""
    if not isinstance(value, str) or not value or value.startswith("0001-01-01"):
        return None
    text = _FRACTION.sub(lambda match: "." + match.group(1)[:6].ljust(6, "0"), value.replace("Z", "+00:00"))
    moment = datetime.datetime.fromisoformat(text)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=time_zone)


@dataclass(frozen=True, slots=True, kw_only=True)
class PastDueCheck:
    status: ScheduleStatus
    is_past_due: bool
    must_write: bool


def check_past_due(status: ScheduleStatus | None, schedule: TimerSchedule, now: datetime.datetime) -> PastDueCheck:
    """The host's start-up check: is an occurrence missed (`now` after the recorded `Next`)?

    No status yet: start one (Next from now), nothing missed. A recorded `Next` that the schedule would not
    give after `Last` means the schedule changed: `Next` is recomputed (from now, if that is already past),
    and nothing counts as missed.
    """
    if status is None:
        return PastDueCheck(
            status=ScheduleStatus(last=None, next=schedule.next_after(now), last_updated=now),
            is_past_due=False,
            must_write=True,
        )
    base = status.last or status.last_updated
    expected = schedule.next_after(base if base is not None else now)
    if expected != status.next:
        if expected <= now:
            expected = schedule.next_after(now)
        changed = dataclasses.replace(status, next=expected, last_updated=now)
        return PastDueCheck(status=changed, is_past_due=False, must_write=True)
    return PastDueCheck(status=status, is_past_due=now > status.next, must_write=False)


def status_after_run(
    previous: ScheduleStatus | None, schedule: TimerSchedule, invoked_at: datetime.datetime, *, is_scheduled: bool
) -> ScheduleStatus:
    """The status written after an invocation, as the host computes it.

    A scheduled run that started a little before its `Next` (clock skew) counts as run at `Next`, so the same
    `Next` is never recorded twice.
    """
    last = invoked_at
    if is_scheduled and previous is not None and previous.next > invoked_at:
        last = previous.next
    return ScheduleStatus(last=last, next=schedule.next_after(last), last_updated=last)


class StatusStore:
    """Download and upload one timer's status blob."""

    def __init__(self, blobs: BlobService, blob_name: str, time_zone: datetime.tzinfo) -> None:
        self._blobs = blobs
        self.blob_name = blob_name
        self._time_zone = time_zone

    async def read(self) -> ScheduleStatus | None:
        """The stored status; None when there is none or it cannot be read (it is then rewritten)."""
        blob = await self._blobs.get(HOSTS_CONTAINER, self.blob_name)
        if blob is None:
            return None
        try:
            return ScheduleStatus.from_json(json.loads(blob.data.decode("utf-8-sig")), self._time_zone)
        except ValueError as error:
            logger.warning("timer.status_unreadable blob=%s: %s; starting a new status", self.blob_name, error)
            return None

    async def write(self, status: ScheduleStatus) -> None:
        """Overwrite the status; a failure is logged only (the host's monitor is best effort too)."""
        data = json.dumps(status.to_json(self._time_zone)).encode()
        try:
            await self._blobs.put(HOSTS_CONTAINER, self.blob_name, data, content_type="application/json")
        except StorageError as error:
            logger.warning("timer.status_write_failed blob=%s: %s", self.blob_name, error)


__all__ = [
    "NEVER",
    "PastDueCheck",
    "ScheduleStatus",
    "StatusStore",
    "check_past_due",
    "format_time",
    "parse_time",
    "status_after_run",
    "status_blob_name",
]
