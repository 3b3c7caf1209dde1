"""The one retry policy, driven by a scripted transport: what is retried, how long it waits, what it reports.

The transport here is a script of answers and failures, not a fake of Azure
Storage: the policy's decisions (retry or not, delay, ambiguity, the error
class) depend only on what comes back. Against real storage faults, see
tests/fault/.
"""

from __future__ import annotations

import random
from collections.abc import Mapping

import pytest

from durable_azure.azure_storage.transport.client import StorageClient
from durable_azure.azure_storage.transport.counter import RequestCounter
from durable_azure.azure_storage.transport.failures import TransportFailure
from durable_azure.azure_storage.transport.request import Safety, Service, StorageRequest, StorageResponse
from durable_azure.azure_storage.transport.retry import RetrySettings, retry_after_seconds
from durable_azure.azure_storage.transport.signing import SasSigner
from durable_azure.errors import (
    ConcurrencyConflictError,
    CredentialError,
    MessageGoneError,
    StorageError,
    StorageUnavailableError,
)

Step = StorageResponse | TransportFailure


class ScriptedTransport:
    name = "scripted"

    def __init__(self, steps: list[Step]) -> None:
        self.steps = list(steps)
        self.sent: list[tuple[str, str, dict[str, str]]] = []

    async def send(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes, *, timeout: float
    ) -> StorageResponse:
        self.sent.append((method, url, dict(headers)))
        step = self.steps.pop(0)
        if isinstance(step, TransportFailure):
            raise step
        return step

    async def close(self) -> None:
        pass


def answer(status: int, code: str | None = None, **headers: str) -> StorageResponse:
    lowered = {name.replace("_", "-").lower(): value for name, value in headers.items()}
    if code is not None:
        lowered["x-ms-error-code"] = code
    return StorageResponse(status, lowered, b"")


def request(*, safety: Safety = Safety.IDEMPOTENT, success: frozenset[int] = frozenset({200})) -> StorageRequest:
    return StorageRequest(
        service=Service.QUEUE,
        method="PUT",
        path="/queue/messages/id",
        kind="queue.update",
        operation="update message",
        context="queue='queue'",
        safety=safety,
        success=success,
    )


class Harness:
    def __init__(self, steps: list[Step], **settings: float) -> None:
        self.transport = ScriptedTransport(steps)
        self.counter = RequestCounter()
        self.sleeps: list[float] = []
        self.client = StorageClient(
            endpoints={Service.QUEUE: "https://acct.queue.core.windows.net"},
            signer=SasSigner("sv=2021&sig=a%2Bb"),
            transport=self.transport,
            retry=RetrySettings(**settings),
            counter=self.counter,
            credential_description="SAS of app setting Storage",
            sleep=self._sleep,
        )

    async def _sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)


async def test_busy_and_failed_connections_are_retried_with_growing_waits() -> None:
    refused = TransportFailure("cannot connect", is_sent=False)
    harness = Harness([answer(503, "ServerBusy"), refused, answer(500, "OperationTimedOut"), answer(200)])
    response = await harness.client.send(request())
    assert response.status == 200 and response.after_ambiguous  # the 500 may have been applied
    assert len(harness.sleeps) == 3
    assert 0.4 <= harness.sleeps[0] <= 0.6 and 0.8 <= harness.sleeps[1] <= 1.2 and 1.6 <= harness.sleeps[2] <= 2.4
    assert harness.counter.snapshot()["queue.update"] == 4
    assert harness.counter.retries() == {"queue.update": 3}
    assert harness.counter.ambiguous_retries() == {
        "queue.update": 1
    }  # only the retry after the 500: refusals never apply


async def test_retry_after_is_honoured_and_the_wait_never_exceeds_a_minute() -> None:
    harness = Harness(
        [answer(503, "ServerBusy", retry_after="7"), answer(429, x_ms_retry_after_ms="1500"), answer(200)]
    )
    await harness.client.send(request())
    assert harness.sleeps == [7.0, 1.5]
    assert retry_after_seconds(answer(503, retry_after="3600")) == 3600.0
    assert RetrySettings().delay(1, 3600.0) == 60.0


@pytest.mark.parametrize("status", [400, 404, 409, 412])
async def test_answers_that_cannot_improve_are_not_retried(status: int) -> None:
    harness = Harness([answer(status, "SomeCode")])
    with pytest.raises(StorageError):
        await harness.client.send(request())
    assert harness.sleeps == []


async def test_exhausted_retries_say_unavailable_after_how_many_attempts() -> None:
    harness = Harness([answer(503, "ServerBusy")] * 3, max_attempts=3)
    with pytest.raises(StorageUnavailableError, match=r"update message failed \(HTTP 503 ServerBusy.*after 3 attempts"):
        await harness.client.send(request())
    failures = [TransportFailure("connection closed before the reply", is_sent=True)] * 2
    harness = Harness(failures, max_attempts=2)
    with pytest.raises(StorageUnavailableError, match="after 2 attempts") as raised:
        await harness.client.send(request())
    assert raised.value.maybe_applied


async def test_a_conflict_after_an_ambiguous_attempt_says_it_may_be_our_own_write() -> None:
    dropped = TransportFailure("connection closed before the reply", is_sent=True)
    harness = Harness([dropped, answer(412, "UpdateConditionNotSatisfied")])
    with pytest.raises(ConcurrencyConflictError) as raised:
        await harness.client.send(request(safety=Safety.CONDITIONAL))
    assert raised.value.maybe_applied and raised.value.code == "UpdateConditionNotSatisfied"
    harness = Harness([answer(412, "UpdateConditionNotSatisfied")])
    with pytest.raises(ConcurrencyConflictError) as plain:
        await harness.client.send(request(safety=Safety.CONDITIONAL))
    assert not plain.value.maybe_applied  # someone else's write


async def test_a_visibility_update_that_may_have_applied_is_reported_not_repeated_blindly() -> None:
    timed_out = TransportFailure("no complete reply within 30 s", is_sent=True)
    harness = Harness([timed_out, answer(404, "MessageNotFound")])
    with pytest.raises(MessageGoneError) as raised:
        await harness.client.send(request(safety=Safety.RECEIPT, success=frozenset({204})))
    assert raised.value.maybe_applied
    assert harness.counter.ambiguous_retries() == {"queue.update": 1}


async def test_a_refused_credential_names_its_source_and_each_attempt_is_signed_again() -> None:
    harness = Harness([answer(503, "ServerBusy"), answer(403, "AuthorizationPermissionMismatch")])
    with pytest.raises(CredentialError, match="refused the SAS of app setting Storage; the identity needs a data role"):
        await harness.client.send(request())
    urls = [url for _method, url, _headers in harness.transport.sent]
    assert len(urls) == 2 and all(url.endswith("?sv=2021&sig=a%2Bb") for url in urls)
    assert all(headers["x-ms-version"] and headers["x-ms-date"] for _m, _u, headers in harness.transport.sent)


def test_jitter_stays_within_twenty_percent_and_the_cap_holds() -> None:
    settings = RetrySettings(initial_delay=0.5, max_delay=10.0)
    draws = [settings.delay(number, None, jitter=random.Random(seed)) for seed in range(50) for number in (1, 6, 12)]
    assert min(draws) >= 0.4 and max(draws) <= 12.0
    with pytest.raises(ValueError, match="maxAttempts"):
        RetrySettings(max_attempts=0)
