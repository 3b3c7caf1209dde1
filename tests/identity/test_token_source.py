"""TokenSource: caching, renewal before expiry, keeping a valid token through a failed renewal, clear errors."""

from __future__ import annotations

import asyncio
import logging

import pytest
from azure.core.credentials import AccessTokenInfo
from azure.core.exceptions import ClientAuthenticationError

from durable_azure.azure_storage.connection import IdentityCredential, IdentityKind
from durable_azure.azure_storage.credentials import STORAGE_SCOPE, TokenSource
from durable_azure.errors import CredentialError

SECRET = "the-client-secret"
IDENTITY = IdentityCredential(
    setting="AzureWebJobsStorage", kind=IdentityKind.CLIENT_SECRET, tenant_id="t", client_id="c", client_secret=SECRET
)
HOUR = 3600.0


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


class ScriptedCredential:
    """Issues `token-N` valid for `lifetime` seconds, or raises while `failing`; counts requests."""

    def __init__(self, clock: Clock, lifetime: float = HOUR) -> None:
        self.clock = clock
        self.lifetime = lifetime
        self.requests: list[tuple[str, ...]] = []
        self.failing = False
        self.refresh_in: float | None = None
        self.gate: asyncio.Event | None = None
        self.closed = False

    async def get_token_info(self, *scopes: str, options: object = None) -> AccessTokenInfo:
        self.requests.append(scopes)
        if self.gate is not None:
            await self.gate.wait()
        if self.failing:
            raise ClientAuthenticationError(f"AADSTS7000215: Invalid client secret provided: {SECRET}")
        refresh_on = int(self.clock.now + self.refresh_in) if self.refresh_in else None
        expires_on = int(self.clock.now + self.lifetime)
        return AccessTokenInfo(f"token-{len(self.requests)}", expires_on, refresh_on=refresh_on)

    async def close(self) -> None:
        self.closed = True


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def credential(clock: Clock) -> ScriptedCredential:
    return ScriptedCredential(clock)


@pytest.fixture
def source(credential: ScriptedCredential, clock: Clock) -> TokenSource:
    return TokenSource(credential, IDENTITY, clock=clock)


async def test_token_is_cached_until_five_minutes_before_expiry(
    source: TokenSource, credential: ScriptedCredential, clock: Clock
) -> None:
    assert await source.token() == "token-1"
    assert credential.requests == [(STORAGE_SCOPE,)]
    clock.now += HOUR - 301
    assert await source.token() == "token-1"
    clock.now += 2
    assert await source.token() == "token-2"
    assert len(credential.requests) == 2


async def test_refresh_on_from_the_credential_comes_first(
    source: TokenSource, credential: ScriptedCredential, clock: Clock
) -> None:
    credential.refresh_in = 600
    await source.token()
    clock.now += 599
    assert await source.token() == "token-1"
    clock.now += 1
    assert await source.token() == "token-2"


async def test_failed_renewal_keeps_a_valid_token_and_retries_after_30_seconds(
    source: TokenSource, credential: ScriptedCredential, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    await source.token()
    clock.now += HOUR - 200
    credential.failing = True
    with caplog.at_level(logging.WARNING, logger="durable_azure.azure_storage.credentials"):
        assert await source.token() == "token-1"
        assert await source.token() == "token-1"  # no new attempt within 30 s
    assert len(credential.requests) == 2
    assert len(caplog.records) == 1
    line = caplog.records[0].getMessage()
    assert "AzureWebJobsStorage__*" in line and "ScriptedCredential" in line
    assert SECRET not in line and "token-1" not in line
    clock.now += 30
    credential.failing = False
    assert await source.token() == "token-3"


async def test_no_usable_token_is_a_credential_error_naming_setting_and_type(
    source: TokenSource, credential: ScriptedCredential, clock: Clock
) -> None:
    credential.failing = True
    with pytest.raises(CredentialError) as raised:
        await source.token()
    message = str(raised.value)
    assert message.startswith(
        "app settings AzureWebJobsStorage__*: ScriptedCredential could not get a token for Azure Storage: AADSTS7000215"
    )
    assert SECRET not in message
    credential.failing = False
    await source.token()
    clock.now += HOUR - 59  # under a minute left: a failed renewal no longer keeps it
    credential.failing = True
    with pytest.raises(CredentialError):
        await source.token()


async def test_concurrent_callers_share_one_request(source: TokenSource, credential: ScriptedCredential) -> None:
    credential.gate = asyncio.Event()
    callers = [asyncio.create_task(source.token()) for _ in range(5)]
    await asyncio.sleep(0)
    credential.gate.set()
    assert await asyncio.gather(*callers) == ["token-1"] * 5
    assert len(credential.requests) == 1


async def test_a_cancelled_caller_does_not_cancel_the_shared_renewal(
    source: TokenSource, credential: ScriptedCredential
) -> None:
    credential.gate = asyncio.Event()
    impatient = asyncio.create_task(source.token())
    patient = asyncio.create_task(source.token())
    await asyncio.sleep(0)
    impatient.cancel()
    credential.gate.set()
    assert await patient == "token-1"
    assert len(credential.requests) == 1


async def test_repr_never_shows_a_token(source: TokenSource) -> None:
    await source.token()
    assert "token-1" not in repr(source)
    assert repr(source) == "TokenSource(credential=ScriptedCredential, setting='AzureWebJobsStorage')"
