"""The large-messages container: gzip payloads too big for a queue message or a table column.

Shared by the message codec and both tables, so compression, naming of URLs and
prefix deletion exist once. Every call counts as one blob request (plus one list
per page for `delete_prefix`).
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
from collections.abc import Collection
from urllib.parse import quote, unquote

from azure.core.exceptions import ResourceNotFoundError
from azure.storage.blob.aio import ContainerClient

from durable_azure.azure_storage.account import translate_storage_errors


class LargeMessageStore:
    """Gzipped UTF-8 text blobs in `{hub}-largemessages`."""

    def __init__(self, container: ContainerClient) -> None:
        self._container = container

    @property
    def container_url(self) -> str:
        return self._container.url.rstrip("/")

    def url_for(self, blob_name: str) -> str:
        """The absolute blob URL DTFx stores in Instances columns (`{containerUri}/{escaped name}`)."""
        return f"{self.container_url}/{quote(blob_name)}"

    def blob_name_from_url(self, value: str) -> str | None:
        """The blob name if `value` is a URL into this container, else None (then it is plain text)."""
        prefix = self.container_url + "/"
        if not value.startswith(prefix):
            return None
        return unquote(value[len(prefix) :])

    async def upload(self, blob_name: str, text: str) -> None:
        """Overwrites: a re-executed episode writes the same envelope again."""
        data = gzip.compress(text.encode("utf-8"))
        with translate_storage_errors("upload large message blob", blob=blob_name):
            await self._container.upload_blob(blob_name, data, overwrite=True)

    async def download(self, blob_name: str) -> str:
        with translate_storage_errors("download large message blob", blob=blob_name):
            downloader = await self._container.download_blob(blob_name)
            data = await downloader.readall()
        return gzip.decompress(data).decode("utf-8")

    async def delete_prefix(self, prefix: str, *, keep: Collection[str] = ()) -> int:
        """Delete every blob whose name starts with `prefix`, except those in `keep`; returns how many."""
        with translate_storage_errors("list large message blobs", prefix=prefix):
            names = [blob.name async for blob in self._container.list_blobs(name_starts_with=prefix)]
        doomed = [name for name in names if name not in keep]
        await asyncio.gather(*(self._delete(name) for name in doomed))
        return len(doomed)

    async def _delete(self, blob_name: str) -> None:
        with (
            translate_storage_errors("delete large message blob", blob=blob_name),
            contextlib.suppress(ResourceNotFoundError),
        ):
            await self._container.delete_blob(blob_name)
