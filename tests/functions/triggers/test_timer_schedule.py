"""Schedules, time zones and the status blob's codec, without storage: what a timer's schedule means."""

from __future__ import annotations

import datetime
import zoneinfo

import pytest

from durable_azure.errors import ConfigurationError
from durable_azure.functions.triggers.schedule import parse_schedule, parse_timespan
from durable_azure.functions.triggers.time_zones import schedule_time_zone
from durable_azure.functions.triggers.timer_status import (
    NEVER,
    ScheduleStatus,
    check_past_due,
    format_time,
    parse_time,
    status_after_run,
)

UTC = datetime.UTC
NOW = datetime.datetime(2026, 12, 2, 16, 3, 7, 500000, tzinfo=UTC)  # a Wednesday
NEW_YORK = zoneinfo.ZoneInfo("America/New_York")


def at(*parts: int, zone: datetime.tzinfo = UTC) -> datetime.datetime:
    return datetime.datetime(*parts, tzinfo=zone)


def occurrences(
    expression: str, count: int, after: datetime.datetime = NOW, time_zone: datetime.tzinfo = UTC
) -> list[datetime.datetime]:
    schedule = parse_schedule(expression, time_zone=time_zone)
    found = []
    for _ in range(count):
        after = schedule.next_after(after)
        found.append(after)
    return found


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("0 */5 * * * *", [at(2026, 12, 2, 16, 5), at(2026, 12, 2, 16, 10)]),
        ("*/5 * * * *", [at(2026, 12, 2, 16, 5), at(2026, 12, 2, 16, 10)]),  # five fields: no seconds
        ("* * * * * *", [at(2026, 12, 2, 16, 3, 8), at(2026, 12, 2, 16, 3, 9)]),
        ("10/20 * * * * *", [at(2026, 12, 2, 16, 3, 10), at(2026, 12, 2, 16, 3, 30)]),
        ("0 0,30 9-10 * * *", [at(2026, 12, 3, 9), at(2026, 12, 3, 9, 30), at(2026, 12, 3, 10)]),
        ("0 0 9 * * MON-FRI", [at(2026, 12, 3, 9), at(2026, 12, 4, 9), at(2026, 12, 7, 9)]),
        ("0 30 9 * JAN,jul sun", [at(2027, 1, 3, 9, 30), at(2027, 1, 10, 9, 30)]),
        ("0 0 0 1 * Sunday", [at(2027, 8, 1), at(2028, 10, 1)]),  # the 1st AND a Sunday (NCrontab)
        ("0 0 0 13 * 5", [at(2027, 8, 13), at(2028, 10, 13)]),  # day AND weekday: Friday the 13th
        ("0 0 0 29 2 *", [at(2028, 2, 29), at(2032, 2, 29)]),
        ("0 0 12 1-7/3 * *", [at(2026, 12, 4, 12), at(2026, 12, 7, 12), at(2027, 1, 1, 12)]),
    ],
)
def test_cron_occurrences(expression: str, expected: list[datetime.datetime]) -> None:
    assert occurrences(expression, len(expected)) == expected


def test_cron_runs_on_the_wall_clock_of_its_time_zone() -> None:
    daily = occurrences("0 30 9 * * *", 2, time_zone=NEW_YORK)
    assert [moment.astimezone(NEW_YORK).hour for moment in daily] == [9, 9]
    assert daily[0] == at(2026, 12, 3, 14, 30)  # 09:30 in New York had passed at 16:03 UTC


def test_daylight_saving_days_fire_daily_schedules_once() -> None:
    spring = occurrences("0 30 2 * * *", 2, after=at(2026, 3, 7, 12), time_zone=NEW_YORK)
    assert spring == [at(2026, 3, 8, 7, 30), at(2026, 3, 9, 6, 30)]  # 02:30 does not exist: fired at 03:30 EDT
    autumn = occurrences("0 30 1 * * *", 2, after=at(2026, 10, 31, 12), time_zone=NEW_YORK)
    assert autumn == [at(2026, 11, 1, 5, 30), at(2026, 11, 2, 6, 30)]  # 01:30 happens twice: fired once


@pytest.mark.parametrize(
    ("text", "interval"),
    [
        ("00:05:00", datetime.timedelta(minutes=5)),
        ("01:30", datetime.timedelta(hours=1, minutes=30)),
        ("00:00:01.5", datetime.timedelta(seconds=1.5)),
        ("1.02:03:04", datetime.timedelta(days=1, hours=2, minutes=3, seconds=4)),
        ("1:02:03:04", datetime.timedelta(days=1, hours=2, minutes=3, seconds=4)),
        ("7", datetime.timedelta(days=7)),
        ("24:00:00", datetime.timedelta(days=24)),  # as .NET reads it: dd:hh:mm
    ],
)
def test_timespan_schedules_are_constant_intervals(text: str, interval: datetime.timedelta) -> None:
    assert parse_timespan(text) == interval
    assert parse_schedule(text).next_after(NOW) == NOW + interval


@pytest.mark.parametrize(
    "expression",
    [
        "0 0 25 * * *",
        "60 * * * * *",
        "0 0 0 * * 7",
        "0 0 0 * FOO *",
        "0 0 0 31 2 *",  # never happens
        "0 0 0 * * * *",
        "* * * *",
        "*/0 * * * * *",
        "5-1 * * * * *",
        "every day",
        "00:60:00",
        "-00:01:00",
        "00:00:00",
        "",
    ],
)
def test_invalid_schedules_get_the_hosts_message(expression: str) -> None:
    with pytest.raises(ConfigurationError) as raised:
        parse_schedule(expression)
    assert str(raised.value) == (
        f"The schedule expression '{expression}' was not recognized as a valid cron expression or timespan string."
    )


@pytest.mark.parametrize(
    ("expression", "is_frequent"),
    [("* * * * * *", True), ("*/10 * * * * *", True), ("0 * * * * *", False), ("*/10 * 9 * * *", False),
     ("00:00:30", True), ("00:01:00", False)],
)  # fmt: skip
def test_the_monitor_is_off_for_schedules_firing_more_than_once_a_minute(expression: str, is_frequent: bool) -> None:
    assert parse_schedule(expression).fires_more_than_once_a_minute is is_frequent


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, "UTC"),
        ({"WEBSITE_TIME_ZONE": "Europe/Paris", "TZ": "Asia/Tokyo"}, "Europe/Paris"),
        ({"TZ": "Asia/Tokyo"}, "Asia/Tokyo"),
        ({"TZ": ":Asia/Tokyo"}, "Asia/Tokyo"),
        ({"WEBSITE_TIME_ZONE": "Eastern Standard Time"}, "America/New_York"),
    ],
)
def test_time_zone_settings(environ: dict[str, str], expected: str) -> None:
    assert str(schedule_time_zone(environ)) == expected


def test_an_unknown_time_zone_is_a_start_up_error_naming_the_setting() -> None:
    with pytest.raises(ConfigurationError, match=r"WEBSITE_TIME_ZONE='Mars Standard Time'"):
        schedule_time_zone({"WEBSITE_TIME_ZONE": "Mars Standard Time"})


def test_status_json_has_the_hosts_shape() -> None:
    status = ScheduleStatus(last=None, next=at(2026, 12, 2, 16, 5), last_updated=NOW)
    document = status.to_json(UTC)
    assert document == {
        "Last": NEVER,
        "Next": "2026-12-02T16:05:00+00:00",
        "LastUpdated": "2026-12-02T16:03:07.5+00:00",
    }
    assert ScheduleStatus.from_json(document, UTC) == status
    assert format_time(at(2026, 12, 2, 16, 5), NEW_YORK) == "2026-12-02T11:05:00-05:00"
    assert parse_time("2024-05-01T10:00:00.0042185+00:00", UTC) == at(2024, 5, 1, 10, 0, 0, 4218)
    assert parse_time("2024-05-01T10:00:00", NEW_YORK) == at(2024, 5, 1, 10, zone=NEW_YORK)


def test_past_due_check() -> None:
    schedule = parse_schedule("0 */5 * * * *")
    fresh = check_past_due(None, schedule, NOW)
    assert (fresh.status.next, fresh.is_past_due, fresh.must_write) == (at(2026, 12, 2, 16, 5), False, True)
    missed = ScheduleStatus(last=at(2026, 12, 2, 15, 50), next=at(2026, 12, 2, 15, 55), last_updated=None)
    assert check_past_due(missed, schedule, NOW).is_past_due is True
    on_time = ScheduleStatus(last=at(2026, 12, 2, 16), next=at(2026, 12, 2, 16, 5), last_updated=None)
    assert check_past_due(on_time, schedule, NOW).is_past_due is False
    changed = check_past_due(missed, parse_schedule("0 0 * * * *"), NOW)  # Next no longer follows Last
    assert (changed.status.next, changed.is_past_due, changed.must_write) == (at(2026, 12, 2, 17), False, True)


def test_status_after_a_run_counts_an_early_start_as_on_time() -> None:
    schedule = parse_schedule("0 */5 * * * *")
    previous = ScheduleStatus(last=None, next=at(2026, 12, 2, 16, 5), last_updated=None)
    early = status_after_run(previous, schedule, at(2026, 12, 2, 16, 4, 59, 900000), is_scheduled=True)
    assert (early.last, early.next) == (at(2026, 12, 2, 16, 5), at(2026, 12, 2, 16, 10))
    late = status_after_run(previous, schedule, at(2026, 12, 2, 16, 5, 0, 20000), is_scheduled=True)
    assert (late.last, late.next) == (at(2026, 12, 2, 16, 5, 0, 20000), at(2026, 12, 2, 16, 10))
