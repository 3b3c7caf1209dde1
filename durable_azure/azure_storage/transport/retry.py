"""The one retry policy: which failures are retried, how long to wait, and which attempts were ambiguous.

Storage answers 503 ServerBusy or 500 OperationTimedOut when a partition is
over its targets, and asks callers to back off exponentially
(reference/identity-connections.md §8). The SDKs disagree with each other and
with that advice (blob/queue wait 18-42 s and ignore `Retry-After`; tables
retry ten times), so every request here, whatever its service or transport,
follows this policy instead: retry 408, 429, 500, 502, 503, 504 and failed
connections, waiting 0.5 s, 1 s, 2 s ... (±20 % jitter) up to `max_delay`, or
what `Retry-After` asks; give up after `max_attempts`. The defaults span about
35 s, so a storage outage of a few seconds, or a restart of the emulator,
delays work instead of failing it.

What may be repeated is decided per request (`request.Safety`); this module
only says whether a failed attempt may have been applied.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from time import time

from durable_azure.azure_storage.transport.request import StorageResponse
from durable_azure.errors import ConfigurationError

RETRIABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
# Answers that say storage turned the request away before doing anything: a retry cannot duplicate it.
_NOT_APPLIED_STATUSES = frozenset({408, 429})
_NOT_APPLIED_CODES = frozenset({"ServerBusy"})
MAX_RETRY_AFTER_SECONDS = 60.0


@dataclass(frozen=True, slots=True, kw_only=True)
class RetrySettings:
    """host.json `extensions.durableTask.storageProvider.storageRetry` (ours) and `storageRequestsTimeout`."""

    max_attempts: int = 8
    initial_delay: float = 0.5
    max_delay: float = 10.0
    request_timeout: float = 30.0
    """Per attempt: DTFx v1 called it StorageRequestsTimeout. A reply that takes longer is an ambiguous failure."""

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ConfigurationError(f"storage retries: maxAttempts must be at least 1, not {self.max_attempts}")
        if not 0 < self.initial_delay <= self.max_delay:
            raise ConfigurationError("storage retries: initialDelay must be positive and at most maxDelay")
        if self.request_timeout <= 0:
            raise ConfigurationError("storage retries: the request timeout must be positive")

    def delay(self, retry_number: int, retry_after: float | None, *, jitter: random.Random | None = None) -> float:
        """Seconds to wait before retry `retry_number` (1 for the first retry)."""
        draw = (jitter or random).uniform(0.8, 1.2)
        backoff = min(self.max_delay, self.initial_delay * 2 ** (retry_number - 1)) * draw
        if retry_after is None:
            return backoff
        return min(max(retry_after, self.initial_delay * draw), MAX_RETRY_AFTER_SECONDS)


def is_retriable(response: StorageResponse) -> bool:
    return response.status in RETRIABLE_STATUSES


def may_have_applied(response: StorageResponse, code: str | None) -> bool:
    """Whether a failed answer leaves open that storage did the work (500 OperationTimedOut, 502, 504)."""
    if response.status in _NOT_APPLIED_STATUSES or code in _NOT_APPLIED_CODES:
        return False
    return response.status >= 500


def retry_after_seconds(response: StorageResponse) -> float | None:
    """`retry-after-ms` / `x-ms-retry-after-ms` (milliseconds) or `Retry-After` (seconds or an HTTP date)."""
    for name in ("retry-after-ms", "x-ms-retry-after-ms"):
        value = response.header(name)
        if value is not None:
            try:
                return max(0.0, float(value) / 1000)
            except ValueError:
                pass
    value = response.header("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time())
    except (TypeError, ValueError):
        return None
