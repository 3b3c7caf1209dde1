"""Timer schedules as the Functions host reads them: NCRONTAB expressions and .NET TimeSpan intervals.

The host (WebJobs timer extension) parses `schedule` with NCrontab, seconds first:

    {second} {minute} {hour} {day} {month} {day-of-week}

and also accepts the classic five fields (no seconds: second 0). Each field is `*`, a number, a range `a-b`,
a step `*/n`, `a-b/n` or `a/n` (from a to the field's end), or a comma list of those. Months take names
(JAN..DEC), days of week too (SUN..SAT, 0 = Sunday, 6 = Saturday), without case, by their first three
letters or in full. As NCrontab does (and unlike Vixie cron), a restricted day-of-month and a restricted
day-of-week must BOTH match: `0 0 0 13 * FRI` fires on Friday the 13th only.

Anything that is not a cron expression is read as a .NET `TimeSpan` (`hh:mm:ss`, `d.hh:mm:ss`, `hh:mm`, a
number of days, `dd:hh:mm` when the first part is 24 or more): a constant interval counted from the last
invocation. Anything else is the host's start-up error "The schedule expression '...' was not recognized as
a valid cron expression or timespan string."

Cron occurrences are computed on the wall clock of the schedule's time zone (`time_zones.py`) and returned as
aware UTC datetimes. A wall time skipped by a daylight-saving jump fires at the same instant as the first
valid time after it; during the repeated hour, the first pass counts (the second is not fired again for a
daily or hourly schedule). This module does no I/O.
"""

from __future__ import annotations

import dataclasses
import datetime
import re
from dataclasses import dataclass
from typing import Protocol

from durable_azure.errors import ConfigurationError

UTC = datetime.UTC
_MONTH_NAMES = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_DAY_NAMES = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
_FULL_NAMES = {
    "JANUARY", "FEBRUARY", "MARCH", "APRIL", "JUNE", "JULY", "AUGUST", "SEPTEMBER", "OCTOBER", "NOVEMBER",
    "DECEMBER", "SUNDAY", "MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY",
}  # fmt: skip
_SEARCH_YEARS = 30
"""How far ahead an occurrence is searched: Feb 29 on a given weekday recurs within 28 years."""


class TimerSchedule(Protocol):
    """When a timer fires: the next occurrence strictly after a moment."""

    @property
    def expression(self) -> str:
        """The schedule as written (after `%Setting%` expansion)."""

    @property
    def fires_more_than_once_a_minute(self) -> bool:
        """The host turns the schedule monitor off for such schedules (its status blob would churn)."""

    def next_after(self, moment: datetime.datetime) -> datetime.datetime:
        """The first occurrence strictly after `moment` (aware), as an aware UTC datetime."""


@dataclass(frozen=True, slots=True)
class _Field:
    name: str
    low: int
    high: int
    names: tuple[str, ...] = ()
    name_base: int = 0


_SECOND = _Field("second", 0, 59)
_MINUTE = _Field("minute", 0, 59)
_HOUR = _Field("hour", 0, 23)
_DAY = _Field("day", 1, 31)
_MONTH = _Field("month", 1, 12, _MONTH_NAMES, 1)
_WEEKDAY = _Field("day-of-week", 0, 6, _DAY_NAMES, 0)
_FIELDS = (_SECOND, _MINUTE, _HOUR, _DAY, _MONTH, _WEEKDAY)


class _InvalidSchedule(ValueError):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class CronSchedule:
    """An NCRONTAB schedule on the wall clock of `time_zone`."""

    expression: str
    seconds: frozenset[int]
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]
    """0 = Sunday, as cron counts (Python's weekday() is 0 = Monday)."""
    time_zone: datetime.tzinfo = UTC

    @property
    def fires_more_than_once_a_minute(self) -> bool:
        """As the host decides it: every minute of every day, with more than one second in it."""
        every_minute = (
            len(self.minutes) == 60
            and len(self.hours) == 24
            and len(self.days) == 31
            and len(self.months) == 12
            and len(self.weekdays) == 7
        )
        return every_minute and len(self.seconds) > 1

    def with_time_zone(self, time_zone: datetime.tzinfo) -> CronSchedule:
        return dataclasses.replace(self, time_zone=time_zone)

    def next_after(self, moment: datetime.datetime) -> datetime.datetime:
        instant = moment.astimezone(UTC)
        wall = instant.astimezone(self.time_zone).replace(tzinfo=None, microsecond=0)
        while True:
            wall = self._next_wall_time(wall)
            for fold in (0, 1):
                candidate = wall.replace(tzinfo=self.time_zone, fold=fold).astimezone(UTC)
                if candidate > instant:
                    return candidate

    def _next_wall_time(self, after: datetime.datetime) -> datetime.datetime:
        """The first wall time (naive, whole seconds) strictly after `after` that matches every field."""
        start = after + datetime.timedelta(seconds=1)
        day = start.date()
        last_day = day + datetime.timedelta(days=366 * _SEARCH_YEARS)
        while day <= last_day:
            if self._matches_day(day):
                earliest = start.time() if day == start.date() else datetime.time()
                clock = self._first_time_from(earliest)
                if clock is not None:
                    return datetime.datetime.combine(day, clock)
            day += datetime.timedelta(days=1)
        raise _InvalidSchedule(f"no occurrence within {_SEARCH_YEARS} years")

    def _matches_day(self, day: datetime.date) -> bool:
        weekday = (day.weekday() + 1) % 7
        return day.month in self.months and day.day in self.days and weekday in self.weekdays

    def _first_time_from(self, earliest: datetime.time) -> datetime.time | None:
        for hour in sorted(self.hours):
            if hour < earliest.hour:
                continue
            for minute in sorted(self.minutes):
                if (hour, minute) < (earliest.hour, earliest.minute):
                    continue
                for second in sorted(self.seconds):
                    if (hour, minute, second) >= (earliest.hour, earliest.minute, earliest.second):
                        return datetime.time(hour, minute, second)
        return None

    def __str__(self) -> str:
        return self.expression


@dataclass(frozen=True, slots=True, kw_only=True)
class ConstantSchedule:
    """A TimeSpan schedule: a fixed interval after the previous invocation."""

    expression: str
    interval: datetime.timedelta

    @property
    def fires_more_than_once_a_minute(self) -> bool:
        return self.interval < datetime.timedelta(minutes=1)

    def next_after(self, moment: datetime.datetime) -> datetime.datetime:
        return moment.astimezone(UTC) + self.interval

    def __str__(self) -> str:
        return self.expression


def parse_schedule(expression: str, *, time_zone: datetime.tzinfo = UTC) -> CronSchedule | ConstantSchedule:
    """The schedule of `expression`; ConfigurationError with the host's message when it is neither form."""
    text = expression.strip()
    try:
        return parse_cron(text).with_time_zone(time_zone)
    except _InvalidSchedule:
        pass
    interval = parse_timespan(text)
    if interval is None or interval <= datetime.timedelta(0):
        raise ConfigurationError(
            f"The schedule expression '{expression}' was not recognized as a valid cron expression or timespan string."
        )
    return ConstantSchedule(expression=text, interval=interval)


def parse_cron(expression: str) -> CronSchedule:
    """Six fields (seconds first) or five (second 0); _InvalidSchedule (a ValueError) otherwise."""
    parts = expression.split()
    if len(parts) == 5:
        parts = ["0", *parts]
    if len(parts) != 6:
        raise _InvalidSchedule(f"{len(parts)} fields")
    values = [_parse_field(part, field) for part, field in zip(parts, _FIELDS, strict=True)]
    schedule = CronSchedule(
        expression=expression,
        seconds=values[0],
        minutes=values[1],
        hours=values[2],
        days=values[3],
        months=values[4],
        weekdays=values[5],
    )
    schedule._next_wall_time(datetime.datetime(2000, 1, 1))  # e.g. "0 0 0 31 2 *": never, so invalid
    return schedule


def _parse_field(text: str, field: _Field) -> frozenset[int]:
    values: set[int] = set()
    for item in text.split(","):
        base, slash, step_text = item.partition("/")
        step = _number(step_text, field) if slash else 1
        if step <= 0:
            raise _InvalidSchedule(f"{field.name}: step {step_text!r}")
        if base == "*":
            low, high = field.low, field.high
        elif "-" in base:
            low_text, _, high_text = base.partition("-")
            low, high = _value(low_text, field), _value(high_text, field)
        else:
            low = _value(base, field)
            high = field.high if slash else low
        if low > high:
            raise _InvalidSchedule(f"{field.name}: range {base!r}")
        values.update(range(low, high + 1, step))
    return frozenset(values)


def _value(text: str, field: _Field) -> int:
    upper = text.strip().upper()
    if upper[:1].isalpha() and field.names:
        if upper[:3] in field.names and (len(upper) == 3 or upper in _FULL_NAMES):
            return field.names.index(upper[:3]) + field.name_base
        raise _InvalidSchedule(f"{field.name}: name {text!r}")
    number = _number(upper, field)
    if not field.low <= number <= field.high:
        raise _InvalidSchedule(f"{field.name}: {number} outside {field.low}-{field.high}")
    return number


def _number(text: str, field: _Field) -> int:
    if not text.isdigit():
        raise _InvalidSchedule(f"{field.name}: {text!r}")
    return int(text)


_TIMESPAN = re.compile(r"^(?P<sign>-)?(?:(?P<days>\d+)\.)?(?P<clock>\d+(?::\d+){1,3})(?:\.(?P<fraction>\d{1,7}))?$")


def parse_timespan(text: str) -> datetime.timedelta | None:
    """A .NET `TimeSpan.TryParse` of the forms schedules use; None when it is not one.

    `d`, `hh:mm`, `hh:mm:ss[.fffffff]`, `d.hh:mm[:ss]`, `d:hh:mm:ss`; with three parts and a first part of
    24 or more, .NET reads `dd:hh:mm` (so "24:00:00" is 24 days, not one).
    """
    if text.isdigit():
        return datetime.timedelta(days=int(text))
    match = _TIMESPAN.match(text)
    if match is None:
        return None
    parts = [int(part) for part in match["clock"].split(":")]
    days = int(match["days"] or 0)
    if len(parts) == 4:
        if match["days"] is not None:
            return None
        days, parts = parts[0], parts[1:]
    elif len(parts) == 3 and parts[0] >= 24 and match["days"] is None and match["fraction"] is None:
        days, parts = parts[0], [parts[1], parts[2], 0]
    hours, minutes, seconds = [*parts, 0][:3]
    if hours > 23 or minutes > 59 or seconds > 59 or (len(parts) == 2 and match["fraction"] is not None):
        return None
    fraction = int((match["fraction"] or "0").ljust(7, "0")) / 10**7
    span = datetime.timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds + fraction)
    return -span if match["sign"] else span


__all__ = ["ConstantSchedule", "CronSchedule", "TimerSchedule", "parse_cron", "parse_schedule", "parse_timespan"]
