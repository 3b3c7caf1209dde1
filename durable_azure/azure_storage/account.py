"""The storage account: one connection, one signer, one transport, one retry policy, one request counter.

Everything the provider does with storage goes through the three service
objects built here (`queues`, `tables`, `blobs`), which share one
`StorageClient` (transport/client.py). The account is built from a
`StorageConnection` (connection.py: a connection string, or an identity-based
connection's settings) and chooses its transport once (transport/choice.py).
Keys, signatures and tokens never appear in a repr, message or log.
"""

from __future__ import annotations

from types import TracebackType
from urllib.parse import urlsplit

from durable_azure.azure_storage.blob_service import BlobService
from durable_azure.azure_storage.connection import (
    IdentityCredential,
    SharedAccessSignature,
    SharedKey,
    StorageConnection,
    parse_connection_string,
)
from durable_azure.azure_storage.queue_service import QueueService
from durable_azure.azure_storage.table_service import TableService
from durable_azure.azure_storage.transport.choice import TransportChoice, choose_transport
from durable_azure.azure_storage.transport.client import StorageClient
from durable_azure.azure_storage.transport.counter import RequestCounter
from durable_azure.azure_storage.transport.request import Service
from durable_azure.azure_storage.transport.retry import RetrySettings
from durable_azure.azure_storage.transport.signing import BearerSigner, SasSigner, SharedKeySigner, Signer
from durable_azure.errors import ConfigurationError
from durable_azure.settings import DurableTaskSettings


class StorageAccount:
    """One storage account's queue, table and blob services. Use `async with` or `close()`."""

    def __init__(
        self,
        connection: StorageConnection,
        *,
        transport: TransportChoice = TransportChoice.AUTO,
        retry: RetrySettings | None = None,
    ) -> None:
        self.connection = connection
        self.account_name = connection.account_name
        self.counter = RequestCounter()
        endpoints = {
            Service.BLOB: connection.blob_endpoint,
            Service.QUEUE: connection.queue_endpoint,
            Service.TABLE: connection.table_endpoint,
        }
        signer = _signer(connection)
        self.client = StorageClient(
            endpoints=endpoints,
            signer=signer,
            transport=choose_transport(transport, endpoints.values(), account_name=connection.account_name),
            retry=retry or RetrySettings(),
            counter=self.counter,
            credential_description=f"{signer.kind} of {connection.source}",
        )
        self._signer = signer
        self.queues = QueueService(self.client)
        self.tables = TableService(self.client)
        self.blobs = BlobService(self.client)

    @classmethod
    def from_connection_string(
        cls,
        connection_string: str,
        *,
        transport: TransportChoice = TransportChoice.AUTO,
        retry: RetrySettings | None = None,
    ) -> StorageAccount:
        """Accepts `UseDevelopmentStorage=true` (Azurite on 127.0.0.1:10000-10002) and full connection strings."""
        return cls(
            parse_connection_string(connection_string, source="the connection string"), transport=transport, retry=retry
        )

    @classmethod
    def from_connection(
        cls,
        connection: StorageConnection,
        *,
        transport: TransportChoice = TransportChoice.AUTO,
        retry: RetrySettings | None = None,
    ) -> StorageAccount:
        return cls(connection, transport=transport, retry=retry)

    @classmethod
    def for_settings(cls, connection: StorageConnection, settings: DurableTaskSettings) -> StorageAccount:
        """The account an app uses: its host.json transport and retry settings applied."""
        return cls(
            connection, transport=TransportChoice.parse(settings.storage_transport), retry=retry_settings(settings)
        )

    @property
    def transport_name(self) -> str:
        """ "lean" or "sdk": which transport this account chose."""
        return self.client.transport.name

    @property
    def queue_endpoint(self) -> str:
        return self.connection.queue_endpoint

    async def close(self) -> None:
        await self.client.close()
        closer = getattr(self._signer, "close", None)
        if closer is not None:
            await closer()

    async def __aenter__(self) -> StorageAccount:
        return self

    async def __aexit__(
        self, error_type: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        await self.close()

    def __repr__(self) -> str:
        return f"StorageAccount(account_name={self.account_name!r}, queue_endpoint={self.queue_endpoint!r})"


def retry_settings(settings: DurableTaskSettings) -> RetrySettings:
    """host.json's storage retry keys as the retry policy's settings."""
    return RetrySettings(
        max_attempts=settings.storage_retry_max_attempts,
        initial_delay=settings.storage_retry_initial_delay.total_seconds(),
        max_delay=settings.storage_retry_max_delay.total_seconds(),
        request_timeout=settings.storage_requests_timeout.total_seconds(),
    )


def _signer(connection: StorageConnection) -> Signer:
    credential = connection.credential
    if isinstance(credential, SharedKey):
        return SharedKeySigner(credential.account_name, credential.account_key)
    if isinstance(credential, SharedAccessSignature):
        return SasSigner(credential.token)
    if isinstance(credential, IdentityCredential):
        return _bearer_signer(connection, credential)
    raise ConfigurationError(f"{connection.source}: unsupported credential {type(credential).__name__}")


def _bearer_signer(connection: StorageConnection, identity: IdentityCredential) -> Signer:
    plain = [url for url in (connection.blob_endpoint, connection.queue_endpoint, connection.table_endpoint)]
    insecure = [url for url in plain if urlsplit(url).scheme != "https"]
    if insecure:  # storage refuses bearer tokens over http, and a token must never cross the wire in clear
        raise ConfigurationError(
            f"{connection.source}: an identity-based connection needs https endpoints, not {insecure[0]}"
        )
    from durable_azure.azure_storage.credentials import TokenSource, build_token_credential

    return BearerSigner(TokenSource(build_token_credential(identity), identity))
