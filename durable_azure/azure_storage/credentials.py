"""Bearer tokens for identity-based connections: the azure-identity credential, and a cached token from it.

`build_token_credential` builds the azure.identity.aio credential an `IdentityCredential` asks for, as
the Functions host maps a connection section to a credential (shared/reference/identity-connections.md
§2). `TokenSource` hands out a token for Azure Storage (scope https://storage.azure.com/.default, §4),
cached, and renewed before it expires as DF 2.x and azure-core's bearer policy do: 5 minutes before
expiry, or at the token's `refresh_on`. A failed renewal keeps the old token while it is valid for more
than a minute and is retried at most every 30 s; with no usable token left, `CredentialError` names the
setting and the credential type. `StorageTokenCredential` is a TokenSource seen as an azure.core
AsyncTokenCredential, for the SDK clients.

Tokens and secrets never appear in a repr, message or log.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from azure.core.credentials import AccessTokenInfo, TokenRequestOptions

from durable_azure.azure_storage.connection import IdentityCredential, IdentityKind
from durable_azure.errors import ConfigurationError, CredentialError

logger = logging.getLogger(__name__)

STORAGE_SCOPE = "https://storage.azure.com/.default"
REFRESH_BEFORE_EXPIRY_SECONDS = 300.0
RETRY_INTERVAL_SECONDS = 30.0
MINIMUM_VALIDITY_SECONDS = 60.0  # a token closer to its expiry than this is not kept when renewal fails


def build_token_credential(identity: IdentityCredential) -> Any:
    """The azure.identity.aio credential for `identity` (an azure.core AsyncTokenCredential).

    Builds only; no token is requested. A credential azure-identity refuses to build (a missing
    certificate file, a malformed tenant id) is a ConfigurationError naming the settings.
    """
    from azure.identity import aio

    try:
        return _BUILDERS[identity.kind](aio, identity)
    except (ValueError, TypeError, OSError) as error:
        raise ConfigurationError(
            f"{identity.source}: cannot set up the {identity.kind.value} credential: {_scrub(error, identity)}"
        ) from None


def _managed_identity(aio: Any, identity: IdentityCredential) -> Any:
    if identity.managed_identity_resource_id:
        return aio.ManagedIdentityCredential(identity_config={"resource_id": identity.managed_identity_resource_id})
    if identity.managed_identity_object_id:
        return aio.ManagedIdentityCredential(identity_config={"object_id": identity.managed_identity_object_id})
    return aio.ManagedIdentityCredential(client_id=identity.client_id)  # no client id: the system-assigned one


def _workload_identity(aio: Any, identity: IdentityCredential) -> Any:
    return aio.WorkloadIdentityCredential(
        tenant_id=identity.tenant_id,
        client_id=identity.client_id,
        token_file_path=identity.token_file_path,
        **_tenant_options(identity),
    )


def _azure_pipelines(aio: Any, identity: IdentityCredential) -> Any:
    return aio.AzurePipelinesCredential(
        tenant_id=identity.tenant_id,
        client_id=identity.client_id,
        service_connection_id=identity.service_connection_id,
        system_access_token=identity.system_access_token,
        **_tenant_options(identity),
    )


def _client_secret(aio: Any, identity: IdentityCredential) -> Any:
    return aio.ClientSecretCredential(
        identity.tenant_id, identity.client_id, identity.client_secret, **_tenant_options(identity)
    )


def _client_certificate(aio: Any, identity: IdentityCredential) -> Any:
    return aio.CertificateCredential(
        identity.tenant_id,
        identity.client_id,
        certificate_path=identity.certificate_path,
        password=identity.certificate_password,
        **_tenant_options(identity),
    )


def _default(aio: Any, identity: IdentityCredential) -> Any:
    """DefaultAzureCredential, with the section's client id as the managed identity's (reference §2 step 7)."""
    options = _tenant_options(identity)
    if identity.client_id:
        options["managed_identity_client_id"] = identity.client_id
    if identity.tenant_id:  # DefaultAzureCredential takes no tenant_id; these are the chain's tenant options
        for option in ("workload_identity_tenant_id", "shared_cache_tenant_id", "visual_studio_code_tenant_id"):
            options[option] = identity.tenant_id
    return aio.DefaultAzureCredential(**options)


def _tenant_options(identity: IdentityCredential) -> dict[str, Any]:
    tenants = list(identity.additionally_allowed_tenants)
    return {"additionally_allowed_tenants": tenants} if tenants else {}


_BUILDERS: dict[IdentityKind, Callable[[Any, IdentityCredential], Any]] = {
    IdentityKind.MANAGED_IDENTITY: _managed_identity,
    IdentityKind.WORKLOAD_IDENTITY: _workload_identity,
    IdentityKind.AZURE_PIPELINES: _azure_pipelines,
    IdentityKind.CLIENT_SECRET: _client_secret,
    IdentityKind.CLIENT_CERTIFICATE: _client_certificate,
    IdentityKind.DEFAULT: _default,
}


class TokenSource:
    """A bearer token for Azure Storage from one credential, cached; concurrent callers share one renewal.

    `clock` gives epoch seconds (tokens' `expires_on` are epoch seconds); tests inject their own.
    """

    def __init__(
        self,
        credential: Any,
        identity: IdentityCredential,
        *,
        clock: Callable[[], float] = time.time,
        scope: str = STORAGE_SCOPE,
    ) -> None:
        self._credential = credential
        self._identity = identity
        self._clock = clock
        self.scope = scope
        self._current: AccessTokenInfo | None = None
        self._next_attempt = 0.0  # no renewal before this, while the current token stays usable
        self._renewal: asyncio.Future[AccessTokenInfo] | None = None

    @property
    def credential_type(self) -> str:
        return type(self._credential).__name__

    def __repr__(self) -> str:
        return f"TokenSource(credential={self.credential_type}, setting={self._identity.setting!r})"

    async def token(self) -> str:
        """A bearer token for `scope`; raises CredentialError when none can be had."""
        return (await self.token_info()).token

    async def token_info(self) -> AccessTokenInfo:
        """The token with its expiry (and `refresh_on` when the credential gave one)."""
        current = self._current
        if current is None or self._is_due(current, self._clock()):
            current = await self._shared_renewal()
        return current

    async def request(self, *scopes: str, options: TokenRequestOptions | None = None) -> AccessTokenInfo:
        """Straight from the credential, uncached: for other scopes, or a service's claims or tenant challenge."""
        try:
            return await self._request(scopes, options)
        except Exception as error:  # every failure to get a token, whatever the library raised
            raise CredentialError(self._describe(error)) from error

    async def close(self) -> None:
        close = getattr(self._credential, "close", None)
        if close is not None:
            await close()

    def _is_due(self, current: AccessTokenInfo, now: float) -> bool:
        renew_at = current.expires_on - REFRESH_BEFORE_EXPIRY_SECONDS
        if current.refresh_on:
            renew_at = min(renew_at, current.refresh_on)
        if now < renew_at:
            return False
        return now >= self._next_attempt or not self._is_usable(current, now)

    @staticmethod
    def _is_usable(current: AccessTokenInfo, now: float) -> bool:
        return current.expires_on - now > MINIMUM_VALIDITY_SECONDS

    async def _shared_renewal(self) -> AccessTokenInfo:
        renewal = self._renewal
        if renewal is None or renewal.done():
            renewal = self._renewal = asyncio.ensure_future(self._renew())
            renewal.add_done_callback(_retrieve_exception)
        # shielded: one caller giving up (cancelled) must not cancel the renewal the others wait for
        return await asyncio.shield(renewal)

    async def _renew(self) -> AccessTokenInfo:
        started = self._clock()
        self._next_attempt = started + RETRY_INTERVAL_SECONDS
        try:
            fresh = await self._request((self.scope,), None)
        except Exception as error:  # every failure to get a token, whatever the library raised
            return self._after_failure(error)
        self._current = fresh
        return fresh

    def _after_failure(self, error: Exception) -> AccessTokenInfo:
        current = self._current
        message = self._describe(error)
        now = self._clock()
        if current is not None and self._is_usable(current, now):
            remaining = int(current.expires_on - now)
            logger.warning(
                "credential.renewal_failed %s; the current token stays in use (valid for %d s more), next attempt "
                "in %d s",
                message,
                remaining,
                int(RETRY_INTERVAL_SECONDS),
            )
            return current
        raise CredentialError(message) from error

    async def _request(self, scopes: tuple[str, ...], options: TokenRequestOptions | None) -> AccessTokenInfo:
        get_token_info = getattr(self._credential, "get_token_info", None)
        if get_token_info is not None:
            return await get_token_info(*scopes, options=options)
        options = options or {}
        token = await self._credential.get_token(
            *scopes, claims=options.get("claims"), tenant_id=options.get("tenant_id")
        )
        return AccessTokenInfo(token.token, token.expires_on)

    def _describe(self, error: BaseException) -> str:
        secrets = (*self._identity.secrets, *([self._current.token] if self._current else []))
        return (
            f"{self._identity.source}: {self.credential_type} could not get a token for Azure Storage: "
            f"{_scrub(error, self._identity, secrets)}"
        )


def _scrub(error: BaseException, identity: IdentityCredential, secrets: tuple[str, ...] = ()) -> str:
    """The library's message, with any secret it might echo blanked out."""
    message = " ".join(str(error).split()) or type(error).__name__
    for secret in {*identity.secrets, *secrets}:
        message = message.replace(secret, "***")
    return message


def _retrieve_exception(future: asyncio.Future[Any]) -> None:
    """Mark a failed renewal's exception as seen, so a renewal whose callers all left logs no warning."""
    if not future.cancelled():
        future.exception()


__all__ = [
    "STORAGE_SCOPE",
    "TokenSource",
    "build_token_credential",
]
