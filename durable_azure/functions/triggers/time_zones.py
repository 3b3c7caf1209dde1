"""The time zone timer schedules run in: `WEBSITE_TIME_ZONE`, else `TZ`, else UTC, as on Azure.

The host evaluates schedules in the process's local time, which Azure sets to UTC unless the app setting
`WEBSITE_TIME_ZONE` names another zone (Windows plans take Windows names, "Eastern Standard Time"; Linux
plans tz database names, "America/New_York"); on Linux `TZ` works too. We read `WEBSITE_TIME_ZONE` first,
then `TZ`, and accept tz database names plus the common Windows names (a fixed table; Python has no
Windows zone database). A name we cannot resolve is a start-up error naming the setting, never a silent
fall-back to UTC.
"""

from __future__ import annotations

import datetime
import zoneinfo
from collections.abc import Mapping
from pathlib import Path

from durable_azure.errors import ConfigurationError

TIME_ZONE_SETTINGS = ("WEBSITE_TIME_ZONE", "TZ")

WINDOWS_TIME_ZONES = {
    "UTC": "UTC",
    "Coordinated Universal Time": "UTC",
    "GMT Standard Time": "Europe/London",
    "Greenwich Standard Time": "Atlantic/Reykjavik",
    "W. Europe Standard Time": "Europe/Berlin",
    "Central Europe Standard Time": "Europe/Budapest",
    "Romance Standard Time": "Europe/Paris",
    "Central European Standard Time": "Europe/Warsaw",
    "E. Europe Standard Time": "Europe/Chisinau",
    "FLE Standard Time": "Europe/Kiev",
    "GTB Standard Time": "Europe/Bucharest",
    "Russian Standard Time": "Europe/Moscow",
    "Turkey Standard Time": "Europe/Istanbul",
    "Israel Standard Time": "Asia/Jerusalem",
    "South Africa Standard Time": "Africa/Johannesburg",
    "Arabian Standard Time": "Asia/Dubai",
    "India Standard Time": "Asia/Kolkata",
    "SE Asia Standard Time": "Asia/Bangkok",
    "China Standard Time": "Asia/Shanghai",
    "Singapore Standard Time": "Asia/Singapore",
    "Tokyo Standard Time": "Asia/Tokyo",
    "Korea Standard Time": "Asia/Seoul",
    "AUS Eastern Standard Time": "Australia/Sydney",
    "E. Australia Standard Time": "Australia/Brisbane",
    "W. Australia Standard Time": "Australia/Perth",
    "New Zealand Standard Time": "Pacific/Auckland",
    "Hawaiian Standard Time": "Pacific/Honolulu",
    "Alaskan Standard Time": "America/Anchorage",
    "Pacific Standard Time": "America/Los_Angeles",
    "Mountain Standard Time": "America/Denver",
    "US Mountain Standard Time": "America/Phoenix",
    "Central Standard Time": "America/Chicago",
    "Eastern Standard Time": "America/New_York",
    "Atlantic Standard Time": "America/Halifax",
    "Canada Central Standard Time": "America/Regina",
    "Mexico Standard Time": "America/Mexico_City",
    "Central Standard Time (Mexico)": "America/Mexico_City",
    "SA Pacific Standard Time": "America/Bogota",
    "E. South America Standard Time": "America/Sao_Paulo",
    "Argentina Standard Time": "America/Buenos_Aires",
}
"""Windows zone ids -> tz database names (CLDR's "001" territory mappings) for the zones apps commonly use."""


def schedule_time_zone(environ: Mapping[str, str]) -> datetime.tzinfo:
    """The zone of the first setting of TIME_ZONE_SETTINGS that is set; UTC when none is.

    ConfigurationError naming the setting and its value when it names no zone we know.
    """
    for setting in TIME_ZONE_SETTINGS:
        value = (environ.get(setting) or "").strip()
        if value:
            return _zone(setting, value)
    return datetime.UTC


def _zone(setting: str, value: str) -> datetime.tzinfo:
    name = WINDOWS_TIME_ZONES.get(value, value)
    if setting == "TZ" and name.startswith(":"):  # POSIX: ":Area/City" or ":/path/to/zoneinfo"
        name = name[1:]
    try:
        if name.startswith("/"):
            with Path(name).open("rb") as file:
                return zoneinfo.ZoneInfo.from_file(file, key=name)
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        raise ConfigurationError(
            f"app setting {setting}={value!r} names no time zone durable-azure knows: use a tz database name "
            "such as 'America/New_York' (or a common Windows name such as 'Eastern Standard Time')"
        ) from None


__all__ = ["TIME_ZONE_SETTINGS", "WINDOWS_TIME_ZONES", "schedule_time_zone"]
