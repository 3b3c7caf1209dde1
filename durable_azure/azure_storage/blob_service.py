"""Blob service requests (REST API "Blob Service"): containers, block blobs, listings and leases.

The provider keeps three kinds of blobs: partition and worker-presence lease
blobs, large messages, and the Functions host's keys; the Functions face also
reads and writes the app's own blobs (blob trigger, blob bindings) and the
host's blob receipts. Every request for them is built here and sent by the
account's StorageClient.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import parsedate_to_datetime
from xml.etree import ElementTree

from durable_azure.azure_storage.transport.client import StorageClient
from durable_azure.azure_storage.transport.request import (
    Safety,
    Service,
    StorageRequest,
    StorageResponse,
    encode_path_segment,
)

_META_PREFIX = "x-ms-meta-"


class LeaseAction(enum.StrEnum):
    ACQUIRE = "acquire"
    RENEW = "renew"
    CHANGE = "change"
    RELEASE = "release"


_LEASE_SUCCESS = {
    LeaseAction.ACQUIRE: frozenset({201}),
    LeaseAction.RENEW: frozenset({200}),
    LeaseAction.CHANGE: frozenset({200}),
    LeaseAction.RELEASE: frozenset({200}),
}


@dataclass(frozen=True, slots=True, kw_only=True)
class BlobProperties:
    """What a blob's headers (or a listing's `<Properties>`) say about it, without its content."""

    etag: str | None = None
    """Quoted, as the `ETag` header gives it (a listing's bare `<Etag>` is quoted to match)."""
    last_modified: datetime | None = None
    content_length: int | None = None
    content_type: str | None = None
    blob_type: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    is_leased: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Blob:
    """A downloaded blob: content, metadata and lease state."""

    data: bytes
    metadata: dict[str, str] = field(default_factory=dict)
    is_leased: bool = False
    etag: str | None = None
    properties: BlobProperties = field(default_factory=BlobProperties)


@dataclass(frozen=True, slots=True, kw_only=True)
class BlobItem:
    """One blob of a listing."""

    name: str
    metadata: dict[str, str]
    is_leased: bool
    properties: BlobProperties = field(default_factory=BlobProperties)


def blob_path(container: str, name: str) -> str:
    return f"/{container}/{encode_path_segment(name, keep_slashes=True)}"


class BlobService:
    def __init__(self, client: StorageClient) -> None:
        self._client = client

    @property
    def endpoint(self) -> str:
        return self._client.endpoint(Service.BLOB)

    def url(self, container: str, name: str | None = None) -> str:
        """The container's or blob's URL (no credential in it): safe to store and print."""
        return self.endpoint + (blob_path(container, name) if name is not None else f"/{container}")

    async def _send(
        self,
        method: str,
        path: str,
        *,
        kind: str,
        operation: str,
        context: str,
        safety: Safety,
        success: frozenset[int],
        query: tuple[tuple[str, str], ...] = (),
        headers: Mapping[str, str] | None = None,
        body: bytes = b"",
    ) -> StorageResponse:
        request = StorageRequest(
            service=Service.BLOB,
            method=method,
            path=path,
            query=query,
            headers=headers or {},
            body=body,
            kind=kind,
            operation=operation,
            context=context,
            safety=safety,
            success=success,
        )
        return await self._client.send(request)

    async def create_container(self, container: str) -> None:
        """Create the container; one that exists is fine."""
        await self._send(
            "PUT",
            f"/{container}",
            kind="other",
            operation="create container",
            context=f"container={container!r}",
            safety=Safety.IDEMPOTENT,
            success=frozenset({201, 409}),
            query=(("restype", "container"),),
        )

    async def delete_container(self, container: str) -> None:
        """Delete the container; one that is gone is fine."""
        await self._send(
            "DELETE",
            f"/{container}",
            kind="other",
            operation="delete container",
            context=f"container={container!r}",
            safety=Safety.IDEMPOTENT,
            success=frozenset({202, 404}),
            query=(("restype", "container"),),
        )

    async def put(
        self,
        container: str,
        name: str,
        data: bytes,
        *,
        metadata: Mapping[str, str] | None = None,
        create_only: bool = False,
        lease_id: str | None = None,
        content_type: str = "application/octet-stream",
    ) -> bool:
        """Upload a block blob; False when `create_only` and the blob exists (a 409 after an ambiguous
        attempt of ours counts as written). Overwrites are idempotent; create-only is conditional."""
        headers = {"x-ms-blob-type": "BlockBlob", "Content-Type": content_type}
        headers.update({_META_PREFIX + key: value for key, value in (metadata or {}).items()})
        if create_only:
            headers["If-None-Match"] = "*"
        if lease_id is not None:
            headers["x-ms-lease-id"] = lease_id
        response = await self._send(
            "PUT",
            blob_path(container, name),
            kind="blob.upload",
            operation="upload blob",
            context=f"blob={container}/{name}",
            safety=Safety.CONDITIONAL if create_only else Safety.IDEMPOTENT,
            success=frozenset({201, 409}) if create_only else frozenset({201}),
            headers=headers,
            body=data,
        )
        return response.status == 201 or response.after_ambiguous

    async def get(self, container: str, name: str) -> Blob | None:
        """Download a blob; None when it does not exist."""
        response = await self._send(
            "GET",
            blob_path(container, name),
            kind="blob.download",
            operation="download blob",
            context=f"blob={container}/{name}",
            safety=Safety.IDEMPOTENT,
            success=frozenset({200, 404}),
        )
        if response.status == 404:
            return None
        properties = _properties_from_headers(response)
        return Blob(
            data=response.body,
            metadata=properties.metadata,
            is_leased=properties.is_leased,
            etag=properties.etag,
            properties=properties,
        )

    async def exists(self, container: str, name: str) -> bool:
        return await self.properties(container, name) is not None

    async def properties(self, container: str, name: str) -> BlobProperties | None:
        """One HEAD request: the blob's ETag, size, metadata and lease state; None when it does not exist."""
        response = await self._send(
            "HEAD",
            blob_path(container, name),
            kind="other",
            operation="get blob properties",
            context=f"blob={container}/{name}",
            safety=Safety.IDEMPOTENT,
            success=frozenset({200, 404}),
        )
        return _properties_from_headers(response) if response.status == 200 else None

    async def delete(self, container: str, name: str, *, lease_id: str | None = None) -> bool:
        """Delete a blob; True if it was there (a 404 after an ambiguous attempt was our own delete)."""
        response = await self._send(
            "DELETE",
            blob_path(container, name),
            kind="blob.delete",
            operation="delete blob",
            context=f"blob={container}/{name}",
            safety=Safety.IDEMPOTENT,
            success=frozenset({202, 404}),
            headers={"x-ms-lease-id": lease_id} if lease_id else None,
        )
        return response.status == 202 or response.after_ambiguous

    async def list_blobs(self, container: str, *, prefix: str = "", include_metadata: bool = False) -> list[BlobItem]:
        """Every blob whose name starts with `prefix`: one request per page of up to 5,000."""
        items: list[BlobItem] = []
        marker = ""
        while True:
            page, marker = await self.list_blobs_page(
                container, prefix=prefix, include_metadata=include_metadata, marker=marker
            )
            items.extend(page)
            if not marker:
                return items

    async def list_blobs_page(
        self,
        container: str,
        *,
        prefix: str = "",
        include_metadata: bool = False,
        marker: str = "",
        max_results: int | None = None,
    ) -> tuple[list[BlobItem], str]:
        """One listing request (up to `max_results`, at most 5,000 blobs) and the marker of the next ("" at the end)."""
        query = [("restype", "container"), ("comp", "list")]
        if prefix:
            query.append(("prefix", prefix))
        if include_metadata:
            query.append(("include", "metadata"))
        if marker:
            query.append(("marker", marker))
        if max_results:
            query.append(("maxresults", str(max_results)))
        response = await self._send(
            "GET",
            f"/{container}",
            kind="blob.list",
            operation="list blobs",
            context=f"container={container!r}",
            safety=Safety.IDEMPOTENT,
            success=frozenset({200}),
            query=tuple(query),
        )
        root = ElementTree.fromstring(response.body)
        return [_blob_item(element) for element in root.iter("Blob")], root.findtext("NextMarker") or ""

    async def lease(
        self,
        container: str,
        name: str,
        action: LeaseAction,
        *,
        lease_id: str,
        proposed_lease_id: str | None = None,
        duration: int | None = None,
    ) -> None:
        """One lease request. Acquire proposes `lease_id` (so a repeat is a renewal, not a conflict); change
        moves `lease_id` to `proposed_lease_id`. LeaseLostError when the blob is leased by someone else."""
        headers = {"x-ms-lease-action": action.value}
        if action is LeaseAction.ACQUIRE:
            headers["x-ms-proposed-lease-id"] = lease_id
            headers["x-ms-lease-duration"] = str(duration if duration is not None else -1)
        else:
            headers["x-ms-lease-id"] = lease_id
        if proposed_lease_id is not None:
            headers["x-ms-proposed-lease-id"] = proposed_lease_id
        await self._send(
            "PUT",
            blob_path(container, name),
            kind="blob.lease",
            operation=f"{action.value} lease",
            context=f"blob={container}/{name}",
            safety=Safety.CONDITIONAL if action is LeaseAction.CHANGE else Safety.IDEMPOTENT,
            success=_LEASE_SUCCESS[action],
            query=(("comp", "lease"),),
            headers=headers,
        )


def _blob_item(element: ElementTree.Element) -> BlobItem:
    metadata_element = element.find("Metadata")
    metadata = {child.tag: child.text or "" for child in metadata_element} if metadata_element is not None else {}
    is_leased = element.findtext("Properties/LeaseStatus") == "locked"
    etag = element.findtext("Properties/Etag")
    length = element.findtext("Properties/Content-Length")
    properties = BlobProperties(
        etag=_quoted(etag) if etag else None,
        last_modified=_http_date(element.findtext("Properties/Last-Modified")),
        content_length=int(length) if length else None,
        content_type=element.findtext("Properties/Content-Type") or None,
        blob_type=element.findtext("Properties/BlobType") or None,
        metadata=metadata,
        is_leased=is_leased,
    )
    return BlobItem(name=element.findtext("Name") or "", metadata=metadata, is_leased=is_leased, properties=properties)


def _properties_from_headers(response: StorageResponse) -> BlobProperties:
    metadata = {
        key[len(_META_PREFIX) :]: value for key, value in response.headers.items() if key.startswith(_META_PREFIX)
    }
    length = response.header("content-length")
    blob_type = response.header("x-ms-blob-type")
    return BlobProperties(
        etag=response.header("etag"),
        last_modified=_http_date(response.header("last-modified")),
        content_length=int(length) if length and length.isdigit() else None,
        content_type=response.header("content-type"),
        blob_type=blob_type,
        metadata=metadata,
        is_leased=response.header("x-ms-lease-status") == "locked",
    )


def _quoted(etag: str) -> str:
    return etag if etag.startswith('"') else f'"{etag}"'


def _http_date(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
