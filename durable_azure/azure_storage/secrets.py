"""The `azure-webjobs-secrets` container, where the Functions host keeps its keys as JSON blobs.

The host's keys live in `{hostId}/host.json` there, so an app moved between the Functions host and
durable-azure keeps its keys. This store only reads a JSON blob, or creates it when missing; what the JSON
means is `functions/keys.py`'s business. Creation is conditional (If-None-Match: *), so two hosts starting
at once agree on one set of keys: the loser reads the winner's blob.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError
from azure.storage.blob.aio import ContainerClient

from durable_azure.azure_storage.account import StorageAccount, translate_storage_errors
from durable_azure.errors import ConfigurationError

SECRETS_CONTAINER = "azure-webjobs-secrets"


class SecretsStore:
    """JSON blobs in the account's `azure-webjobs-secrets` container. Never logs or repr()s a blob's content."""

    def __init__(self, account: StorageAccount) -> None:
        self._container: ContainerClient = account.blob_service.get_container_client(SECRETS_CONTAINER)

    def url_for(self, blob_name: str) -> str:
        """Where the blob lives (no credentials in it): safe to print."""
        return f"{self._container.url.rstrip('/')}/{blob_name}"

    async def read_json(self, blob_name: str) -> Any | None:
        """The parsed blob, or None when it does not exist. Storage calls: one download."""
        with translate_storage_errors("read secrets blob", blob=blob_name):
            try:
                downloader = await self._container.download_blob(blob_name)
                data = await downloader.readall()
            except ResourceNotFoundError:
                return None
        try:
            return json.loads(data.decode("utf-8-sig"))
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise ConfigurationError(f"{self.url_for(blob_name)} is not valid JSON") from error

    async def create_json_if_missing(self, blob_name: str, value: Any) -> tuple[Any, bool]:
        """(the stored value, whether we created it). Never overwrites an existing blob.

        Storage calls: one download; when missing, a container create and a conditional upload (and one more
        download when another host created the blob in between).
        """
        existing = await self.read_json(blob_name)
        if existing is not None:
            return existing, False
        await self._create_container()
        data = json.dumps(value, indent=2).encode("utf-8")
        with translate_storage_errors("create secrets blob", blob=blob_name):
            try:
                await self._container.upload_blob(blob_name, data, overwrite=False)
            except ResourceExistsError:
                return await self.read_json(blob_name), False
        return value, True

    async def _create_container(self) -> None:
        with (
            translate_storage_errors("create secrets container", container=SECRETS_CONTAINER),
            contextlib.suppress(ResourceExistsError),
        ):
            await self._container.create_container()
