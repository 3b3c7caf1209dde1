"""Retry policy for activities and sub-orchestrations: the one place that computes retry delays.

Imports only the standard library.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any


@dataclass(frozen=True, slots=True)
class RetryOptions:
    """How often and how long to retry a failed activity or sub-orchestration.

    Positional like azure.durable_functions' `RetryOptions(first_retry_interval_in_milliseconds,
    max_number_of_attempts)` so ported code keeps working (hence not kw_only); the three
    extra knobs are those of DTFx / Durable Functions .NET and JS. Frozen fields are the
    read-only properties users read.
    """

    first_retry_interval_in_milliseconds: int
    max_number_of_attempts: int
    backoff_coefficient: float = 1.0
    max_retry_interval_in_milliseconds: int | None = None
    retry_timeout_in_milliseconds: int | None = None

    def __post_init__(self) -> None:
        if self.first_retry_interval_in_milliseconds <= 0:
            raise ValueError("first_retry_interval_in_milliseconds must be greater than 0")
        if self.max_number_of_attempts < 1:
            raise ValueError("max_number_of_attempts must be at least 1")
        if self.backoff_coefficient < 1:
            raise ValueError("backoff_coefficient must be at least 1")
        if self.max_retry_interval_in_milliseconds is not None and self.max_retry_interval_in_milliseconds <= 0:
            raise ValueError("max_retry_interval_in_milliseconds must be greater than 0")
        if self.retry_timeout_in_milliseconds is not None and self.retry_timeout_in_milliseconds <= 0:
            raise ValueError("retry_timeout_in_milliseconds must be greater than 0")

    def to_json(self) -> dict[str, Any]:
        """camelCase keys as azure.durable_functions writes them; extras only when set."""
        value: dict[str, Any] = {
            "firstRetryIntervalInMilliseconds": self.first_retry_interval_in_milliseconds,
            "maxNumberOfAttempts": self.max_number_of_attempts,
        }
        if self.backoff_coefficient != 1.0:
            value["backoffCoefficient"] = self.backoff_coefficient
        if self.max_retry_interval_in_milliseconds is not None:
            value["maxRetryIntervalInMilliseconds"] = self.max_retry_interval_in_milliseconds
        if self.retry_timeout_in_milliseconds is not None:
            value["retryTimeoutInMilliseconds"] = self.retry_timeout_in_milliseconds
        return value

    def delay_after(self, attempt: int) -> timedelta:
        """Wait after the `attempt`-th failure (1-based): first * coefficient**(attempt-1), capped."""
        milliseconds = self.first_retry_interval_in_milliseconds * self.backoff_coefficient ** (attempt - 1)
        if self.max_retry_interval_in_milliseconds is not None:
            milliseconds = min(milliseconds, self.max_retry_interval_in_milliseconds)
        return timedelta(milliseconds=milliseconds)

    def next_delay(self, *, attempt: int, first_attempt_time: datetime, now: datetime) -> timedelta | None:
        """The delay before the next attempt, or None to give up.

        Gives up when `attempt` failures used every attempt, or when the retry
        would start later than `retry_timeout` after the first attempt began.
        Times are the orchestration's replay-safe clock, so replays decide alike.
        """
        if attempt >= self.max_number_of_attempts:
            return None
        delay = self.delay_after(attempt)
        timeout = self.retry_timeout_in_milliseconds
        if timeout is not None and (now + delay) - first_attempt_time > timedelta(milliseconds=timeout):
            return None
        return delay


def as_retry_options(value: Any) -> RetryOptions:
    """Ours, or azure.durable_functions' RetryOptions (read by its attributes: an app may build its options with
    the official SDK while its orchestrators run here). TypeError for anything else."""
    if isinstance(value, RetryOptions):
        return value
    first = getattr(value, "first_retry_interval_in_milliseconds", None)
    attempts = getattr(value, "max_number_of_attempts", None)
    if isinstance(first, int) and isinstance(attempts, int):
        return RetryOptions(first, attempts)
    raise TypeError(f"retry_options must be RetryOptions, not {type(value).__name__}")
