"""The large-messages container: gzip payloads too big for a queue message or a table column.

Shared by the message codec and both tables, so compression, naming of URLs and
prefix deletion exist once. Every call is one blob request (plus one list per
page for `delete_prefix`).
"""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import Collection
from urllib.parse import quote, unquote

from durable_azure.azure_storage.blob_service import BlobService
from durable_azure.errors import StorageError


class LargeMessageStore:
    """Gzipped UTF-8 text blobs in `{hub}-largemessages`."""

    def __init__(self, blobs: BlobService, container: str) -> None:
        self._blobs = blobs
        self.container = container

    @property
    def container_url(self) -> str:
        return self._blobs.url(self.container)

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
        await self._blobs.put(self.container, blob_name, gzip.compress(text.encode("utf-8")))

    async def download(self, blob_name: str) -> str:
        blob = await self._blobs.get(self.container, blob_name)
        if blob is None:
            raise StorageError(
                f"download large message blob failed (HTTP 404 BlobNotFound, blob={self.container}/{blob_name})",
                status=404,
                code="BlobNotFound",
            )
        return gzip.decompress(blob.data).decode("utf-8")

    async def delete_prefix(self, prefix: str, *, keep: Collection[str] = (), spare_prefix: str | None = None) -> int:
        """Delete every blob whose name starts with `prefix`, except those in `keep` and those that start with
        `spare_prefix`; returns how many."""
        names = [item.name for item in await self._blobs.list_blobs(self.container, prefix=prefix)]
        doomed = [name for name in names if name not in keep and not (spare_prefix and name.startswith(spare_prefix))]
        await asyncio.gather(*(self._blobs.delete(self.container, name) for name in doomed))
        return len(doomed)
