"""The timer trigger: runs a function on its schedule, on one process of the app at a time.

Every process that runs the app starts a TimerListener per timer function; only the holder of the
function's singleton lock (`singleton.py`) runs the schedule, the others wait to take over. As the host:

* `schedule` is an NCRONTAB expression or a TimeSpan (`schedule.py`), `%Setting%` expanded, evaluated in
  the zone of `WEBSITE_TIME_ZONE`/`TZ` (`time_zones.py`); a bad one is a start-up error naming the function;
* `useMonitor` (default true, off for schedules firing more than once a minute) keeps the status blob
  (`timer_status.py`): on taking the lock, a missed occurrence runs once, at once, with `past_due` true;
  the status is rewritten after each invocation;
* `runOnStartup` runs the function once when the listener starts running the schedule (a missed occurrence
  wins over it);
* the next occurrence is armed only after an invocation finished (no overlap on one process); a failed
  invocation is logged and not retried.

Exactly once per occurrence, across processes: before invoking a scheduled occurrence, the holder records
it on the lock blob as `LastOccurrence`, by a write that storage accepts only under the holder's lease. A
process that lost the lease without noticing (paused, partitioned) fails that write and steps down instead
of firing; a new holder reads `LastOccurrence` first and never fires that occurrence or an earlier one, even
when the old holder crashed before writing the status blob. A crash between the record and the call loses
that one occurrence rather than running it twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import logging
import os
from collections.abc import Callable, Mapping
from typing import Any

from azure.functions.timer import TimerRequest

from durable_azure.errors import ConfigurationError, LeaseLostError, StorageError
from durable_azure.functions.bindings.expressions import resolve_settings
from durable_azure.functions.indexing import InvocationServices, TriggeredFunction
from durable_azure.functions.invocation import invoke
from durable_azure.functions.triggers import register
from durable_azure.functions.triggers.schedule import UTC, TimerSchedule, parse_schedule
from durable_azure.functions.triggers.singleton import (
    LEASE_SECONDS,
    RETRY_SECONDS,
    ListenerLock,
    listener_lock_name,
    wait_or_stop,
)
from durable_azure.functions.triggers.time_zones import schedule_time_zone
from durable_azure.functions.triggers.timer_status import (
    ScheduleStatus,
    StatusStore,
    check_past_due,
    parse_time,
    status_after_run,
    status_blob_name,
)

logger = logging.getLogger(__name__)

TIMER_TRIGGER = "timerTrigger"
CLAIM_METADATA = "LastOccurrence"
"""Lock blob metadata: the last scheduled occurrence a holder started (UTC ISO)."""
_MAX_SLEEP_SECONDS = 60.0
"""Sleeps are cut in slices, so a wall-clock change is noticed within a minute."""

Clock = Callable[[], datetime.datetime]


def _utc_now() -> datetime.datetime:
    return datetime.datetime.now(UTC)


class TimerListener:
    """One timer function's listener (the `Listener` protocol of `functions.triggers`)."""

    def __init__(
        self,
        function: TriggeredFunction,
        services: InvocationServices,
        *,
        environ: Mapping[str, str] | None = None,
        lock_retry_seconds: float = RETRY_SECONDS,
        lease_seconds: int = LEASE_SECONDS,
        clock: Clock = _utc_now,
    ) -> None:
        """Reads and checks the schedule: ConfigurationError naming the function when it is unusable."""
        self.function = function
        self._services = services
        self._where = f"function {function.name!r}"
        self.schedule = read_schedule(function, environ if environ is not None else os.environ)
        self.time_zone = getattr(self.schedule, "time_zone", UTC)
        self.run_on_startup = _flag(function.trigger.field("runOnStartup"), default=False)
        self.use_monitor = _flag(function.trigger.field("useMonitor"), default=True)
        if self.schedule.fires_more_than_once_a_minute:
            self.use_monitor = False
        self._lock_retry_seconds = lock_retry_seconds
        self._lease_seconds = lease_seconds
        self._clock = clock
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._lock: ListenerLock | None = None
        self._status_store: StatusStore | None = None
        self._status: ScheduleStatus | None = None
        self._claimed: datetime.datetime | None = None
        self._anchor: datetime.datetime | None = None
        self._pending: datetime.datetime | None = None
        self._next: datetime.datetime | None = None

    @property
    def next_occurrence(self) -> datetime.datetime | None:
        """The occurrence this process waits for or is running (UTC); None while it does not hold the timer."""
        return self._next

    def describe(self) -> str:
        upcoming = self._next or self.schedule.next_after(self._clock())
        zone = "" if self.time_zone is UTC else f", time zone {self.time_zone}"
        text = f"{TIMER_TRIGGER}: {self.schedule.expression} (next {_iso_utc(upcoming)}{zone})"
        if self._lock is not None and not self._lock.is_held:
            text += " [standby: another process runs it]"
        return text

    async def start(self) -> None:
        """Try the lock once here (so a storage problem fails the start), then run in the background."""
        if self._services.account_for is None or not self._services.host_id:
            raise ConfigurationError(f"{self._where}: the timer trigger needs the host's storage account and host id")
        blobs = self._services.account_for(None).blobs
        host_id = self._services.host_id
        self._lock = ListenerLock(
            blobs, listener_lock_name(host_id, self.function.name), lease_seconds=self._lease_seconds
        )
        self._status_store = StatusStore(blobs, status_blob_name(host_id, self.function.name), self.time_zone)
        await self._lock.try_acquire()
        self._task = asyncio.create_task(self._run(), name=f"timer {self.function.name}")

    async def stop(self) -> None:
        """Stop waiting, let an invocation in progress finish, then give the lock up."""
        self._stop.set()
        if self._task is not None:
            await self._task
        if self._lock is not None:
            await self._lock.release()

    async def _run(self) -> None:
        lock = self._lock
        assert lock is not None
        while not self._stop.is_set():
            if not lock.is_held:
                try:
                    if not await lock.try_acquire():
                        await wait_or_stop(self._stop, self._lock_retry_seconds)
                        continue
                except StorageError as error:
                    logger.warning("timer.lock_failed function=%s: %s", self.function.name, error)
                    await wait_or_stop(self._stop, self._lock_retry_seconds)
                    continue
            renewing = asyncio.create_task(lock.keep_renewed())
            try:
                await self._run_as_holder(renewing)
            except Exception as error:  # storage down, or our bug: hand the timer over rather than stop it for good
                logger.error("timer.holder_failed function=%s: %s: %s; giving the lock up", self.function.name,
                             type(error).__name__, error, exc_info=not isinstance(error, StorageError))  # fmt: skip
                await lock.release()
                await wait_or_stop(self._stop, self._lock_retry_seconds)
            finally:
                renewing.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await renewing
            self._next = None

    async def _run_as_holder(self, renewing: asyncio.Task[None]) -> None:
        """Catch up (past due) or run on start-up, then fire each occurrence, until stopped or the lock is lost."""
        await self._begin_holding()
        while True:
            if self._pending is not None:
                self._next, self._pending = self._pending, None
            else:
                anchor = self._anchor or self._clock()
                if self._claimed is not None:
                    anchor = max(anchor, self._claimed)
                self._next = self.schedule.next_after(anchor)
            if not await self._sleep_until(self._next, renewing):
                return
            if not await self._fire(self._next, is_past_due=False):
                return

    async def _begin_holding(self) -> None:
        """Read what earlier holders recorded, and run the start-up invocation the host would run."""
        assert self._lock is not None and self._status_store is not None
        metadata = await self._lock.read_metadata()
        self._claimed = _claim_time(metadata.get(CLAIM_METADATA.lower()))
        self._anchor, self._pending, self._status = None, None, None
        now = self._clock()
        if self.use_monitor:
            check = check_past_due(await self._status_store.read(), self.schedule, now)
            self._status = check.status
            if check.must_write:
                await self._status_store.write(check.status)
            if check.is_past_due:
                missed = check.status.next
                if self._claimed is not None and self._claimed >= missed:
                    # Started by a holder that stopped before it wrote the status: not missed. The one after
                    # it may be.
                    logger.info("timer.already_run function=%s occurrence=%s", self.function.name, _iso_utc(missed))
                    missed = self.schedule.next_after(self._claimed)
                if missed <= now:
                    logger.info("timer.past_due function=%s missed=%s", self.function.name, _iso_utc(missed))
                    await self._fire(missed, is_past_due=True)
                    return
                self._pending = missed
            elif check.status.next > now and (self._claimed is None or check.status.next > self._claimed):
                self._pending = check.status.next  # armed as recorded (a TimeSpan counts from the last run)
        if self.run_on_startup:
            logger.info("timer.run_on_startup function=%s", self.function.name)
            await self._fire(None, is_past_due=False)

    async def _fire(self, occurrence: datetime.datetime | None, *, is_past_due: bool) -> bool:
        """Record the occurrence under the lease (None: an unscheduled start-up run), then invoke.

        False when the lease turned out to be lost: the caller steps down without invoking.
        """
        assert self._lock is not None and self._status_store is not None
        if occurrence is not None:
            try:
                await self._lock.write_metadata({CLAIM_METADATA: _iso_utc(occurrence)})
            except LeaseLostError:
                logger.warning("timer.lock_lost function=%s: %s is left to the new holder", self.function.name,
                               _iso_utc(occurrence))  # fmt: skip
                return False
            except StorageError as error:
                logger.error("timer.skipped function=%s occurrence=%s: %s", self.function.name, _iso_utc(occurrence),
                             error)  # fmt: skip
                self._anchor = occurrence
                return True
            self._claimed = occurrence
        started = self._clock()
        request = TimerRequest(
            past_due=is_past_due,
            schedule_status=self._status.to_json(self.time_zone) if self._status is not None else {},
            schedule={"AdjustForDST": True},
        )
        try:
            await invoke(self.function, request, self._services)
        except Exception as error:
            logger.error("timer.failed function=%s: %s: %s", self.function.name, type(error).__name__, error,
                         exc_info=True)  # fmt: skip
        if self.use_monitor:
            is_scheduled = occurrence is not None and not is_past_due
            self._status = status_after_run(self._status, self.schedule, started, is_scheduled=is_scheduled)
            await self._status_store.write(self._status)
        self._anchor = max(started, occurrence) if occurrence is not None and not is_past_due else started
        self._pending = None
        return True

    async def _sleep_until(self, when: datetime.datetime, renewing: asyncio.Task[None]) -> bool:
        """Wait for `when` (wall clock); False when stopped or the lease was lost first."""
        while True:
            if self._stop.is_set() or renewing.done() or (self._lock is not None and not self._lock.is_held):
                return False
            delay = (when - self._clock()).total_seconds()
            if delay <= 0:
                return True
            stopped = asyncio.create_task(self._stop.wait())
            try:
                await asyncio.wait(
                    {stopped, renewing}, timeout=min(delay, _MAX_SLEEP_SECONDS), return_when=asyncio.FIRST_COMPLETED
                )
            finally:
                stopped.cancel()


def read_schedule(function: TriggeredFunction, environ: Mapping[str, str]) -> TimerSchedule:
    """The function's schedule, settings expanded, in the app's time zone; ConfigurationError naming it."""
    where = f"function {function.name!r}"
    expression = function.trigger.field("schedule")
    if not isinstance(expression, str) or not expression.strip():
        raise ConfigurationError(f"{where}: the timer trigger {function.trigger.name!r} has no schedule")
    resolved = resolve_settings(expression, where=where)
    try:
        return parse_schedule(resolved, time_zone=schedule_time_zone(environ))
    except ConfigurationError as error:
        raise ConfigurationError(f"{where}: {error}") from None


def _flag(value: Any, *, default: bool) -> bool:
    """function.json booleans, which may also be written as strings ("true")."""
    if value is None:
        return default
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return bool(value)


def _claim_time(value: str | None) -> datetime.datetime | None:
    try:
        return parse_time(value, UTC)
    except ValueError:
        return None


def _iso_utc(moment: datetime.datetime) -> str:
    text = moment.astimezone(UTC).isoformat(timespec="milliseconds" if moment.microsecond else "seconds")
    return text.replace("+00:00", "Z")


register(TIMER_TRIGGER, TimerListener, check=lambda function: read_schedule(function, os.environ))

__all__ = ["CLAIM_METADATA", "TIMER_TRIGGER", "TimerListener", "read_schedule"]
