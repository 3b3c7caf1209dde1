"""The `azure-webjobs-secrets` container, where the Functions host keeps its keys as JSON blobs.

The host's keys live in `{hostId}/host.json` there, so an app moved between the Functions host and
durable-azure keeps its keys. This store only reads a JSON blob, or creates it when missing; what the JSON
means is `functions/keys.py`'s business. Creation is conditional (If-None-Match: *), so two hosts starting
at once agree on one set of keys: the loser reads the winner's blob.
"""

from __future__ import annotations

import json
from typing import Any

from durable_azure.azure_storage.account import StorageAccount
from durable_azure.errors import ConfigurationError

SECRETS_CONTAINER = "azure-webjobs-secrets"


class SecretsStore:
    """JSON blobs in the account's `azure-webjobs-secrets` container. Never logs or repr()s a blob's content."""

    def __init__(self, account: StorageAccount) -> None:
        self._blobs = account.blobs

    def url_for(self, blob_name: str) -> str:
        """Where the blob lives (no credentials in it): safe to print."""
        return f"{self._blobs.url(SECRETS_CONTAINER)}/{blob_name}"

    async def read_json(self, blob_name: str) -> Any | None:
        """The parsed blob, or None when it does not exist. Storage calls: one download."""
        blob = await self._blobs.get(SECRETS_CONTAINER, blob_name)
        if blob is None:
            return None
        try:
            return json.loads(blob.data.decode("utf-8-sig"))
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
        await self._blobs.create_container(SECRETS_CONTAINER)
        data = json.dumps(value, indent=2).encode("utf-8")
        if not await self._blobs.put(
            SECRETS_CONTAINER, blob_name, data, create_only=True, content_type="application/json"
        ):
            return await self.read_json(blob_name), False
        return value, True
