"""`blob` input and output bindings, and the values a blob becomes in Python (shared with the blob trigger).

Input: the blob at `path` (binding expressions resolved: `{name}` from trigger metadata or route parameters,
`{rand-guid}`, `{DateTime}`, `%Setting%`) as `func.InputStream`, `bytes` or `str`, chosen as the Python worker
chooses, by the parameter's annotation, else by `dataType` ("string"/"binary"), else an InputStream. A blob
that does not exist is None, as the worker hands an empty value to the function.

Output: a `str` (UTF-8), `bytes`/`bytearray` or anything with `read()` (an InputStream, a file), uploaded as a
block blob after the function succeeded; None (the output never set) writes nothing. The container is created
when the upload finds it missing, as the host does.

Storage calls: input, one download; output, one upload (plus a container creation the first time).
"""

from __future__ import annotations

import asyncio
import enum
import inspect
import typing
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from azure.functions.blob import InputStream

from durable_azure.errors import ConfigurationError, FunctionInvocationError, StorageError
from durable_azure.functions.bindings import Write, register
from durable_azure.functions.bindings.expressions import has_parameters, resolve

if TYPE_CHECKING:
    from durable_azure.azure_storage import StorageAccount
    from durable_azure.azure_storage.blob_service import BlobProperties
    from durable_azure.functions.indexing import BindingSpec
    from durable_azure.functions.invocation import Invocation


class BlobBinding:
    """Both directions: `read` serves inputs, `plan` outputs."""

    def check(self, function_name: str, binding: BindingSpec) -> None:
        check_path(function_name, binding)

    async def read(self, invocation: Invocation, binding: BindingSpec) -> Any:
        container, name = _resolved_path(invocation, binding)
        account = storage_account(invocation, binding)
        blob = await account.blobs.get(container, name)
        if blob is None:
            return None
        value_type = parameter_value_type(invocation.function.function, binding)
        return blob_value(blob.data, value_type, metadata=blob_metadata(account, container, name, blob.properties))

    async def plan(self, invocation: Invocation, binding: BindingSpec, value: Any) -> Write | None:
        if value is None:
            return None
        # A readable value may be a file: its read() runs off the event loop, like the user's own code.
        data = await asyncio.to_thread(output_bytes, value, binding.name)
        container, name = _resolved_path(invocation, binding)
        account = storage_account(invocation, binding)

        async def upload() -> None:
            await upload_blob(account, container, name, data)

        return upload


def check_path(function_name: str, binding: BindingSpec) -> tuple[str, str]:
    """`container/blob...` of a blob binding; ConfigurationError naming the function and binding otherwise."""
    path = binding.field("path")
    if not isinstance(path, str) or not path.strip("/"):
        raise ConfigurationError(
            f"function {function_name!r}: {binding.type} binding {binding.name!r} needs a 'path' "
            "(container/blob, e.g. samples-workitems/{name})"
        )
    container, _, name = path.strip("/").partition("/")
    if not name:
        raise ConfigurationError(
            f"function {function_name!r}: {binding.type} binding {binding.name!r} has path {path!r}, which names a "
            "container but no blob (container/blob)"
        )
    if has_parameters(container):
        raise ConfigurationError(
            f"function {function_name!r}: {binding.type} binding {binding.name!r} has path {path!r}; "
            "the container part cannot hold {...} expressions"
        )
    return container, name


def _resolved_path(invocation: Invocation, binding: BindingSpec) -> tuple[str, str]:
    where = f"function {invocation.function_name!r}, binding {binding.name!r}"
    path = resolve(
        str(binding.field("path")), invocation.binding_data, where=where, method_name=invocation.function_name
    )
    container, _, name = path.strip("/").partition("/")
    if not name:
        raise FunctionInvocationError(f"{where}: path {path!r} names a container but no blob")
    return container, name


def storage_account(invocation: Invocation, binding: BindingSpec) -> StorageAccount:
    """The account of the binding's `connection` (AzureWebJobsStorage when none), as the host resolves it."""
    account_for = invocation.services.account_for
    if account_for is None:
        raise FunctionInvocationError(f"binding {binding.name!r}: this host gives no storage account to bindings")
    return account_for(binding.field("connection") or None)


async def upload_blob(account: StorageAccount, container: str, name: str, data: bytes) -> None:
    """Upload, creating the container when storage says it is missing (one extra request the first time)."""
    try:
        await account.blobs.put(container, name, data)
    except StorageError as error:
        if error.code != "ContainerNotFound":
            raise
        await account.blobs.create_container(container)
        await account.blobs.put(container, name, data)


def output_bytes(value: Any, binding_name: str) -> bytes:
    """An output value as the Python worker encodes it for a blob: str, bytes, or something readable."""
    if callable(getattr(value, "read", None)):
        value = value.read()
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    raise FunctionInvocationError(
        f"output binding {binding_name!r}: a blob output takes str, bytes or an object with read(), "
        f"not {type(value).__name__}"
    )


def blob_metadata(account: StorageAccount, container: str, name: str, properties: BlobProperties) -> dict[str, Any]:
    """The trigger metadata the host gives for a blob: BlobTrigger, Uri, Properties, Metadata."""
    last_modified = properties.last_modified.isoformat() if properties.last_modified else None
    blob_properties = {
        "ContentLength": properties.content_length,
        "Length": properties.content_length,
        "ContentType": properties.content_type,
        "ETag": properties.etag,
        "LastModified": last_modified,
        "BlobType": _blob_type(properties.blob_type),
    }
    return {
        "BlobTrigger": f"{container}/{name}",
        "Uri": account.blobs.url(container, name),
        "Properties": {key: value for key, value in blob_properties.items() if value is not None},
        "Metadata": dict(properties.metadata),
    }


def _blob_type(blob_type: str | None) -> str | None:
    return {"blockblob": "BlockBlob", "appendblob": "AppendBlob", "pageblob": "PageBlob"}.get((blob_type or "").lower())


def blob_value(data: bytes, value_type: type | None, *, metadata: Mapping[str, Any]) -> Any:
    """`data` as the parameter wants it: bytes, str (UTF-8) or a func.InputStream carrying the metadata."""
    if value_type is bytes:
        return data
    if value_type is str:
        return data.decode("utf-8")
    properties = metadata.get("Properties") or {}
    return InputStream(
        data=data,
        name=metadata.get("BlobTrigger"),
        uri=metadata.get("Uri"),
        length=properties.get("ContentLength", len(data)),
        blob_properties=dict(properties),
        metadata=dict(metadata.get("Metadata") or {}),
    )


def parameter_value_type(function: Callable[..., Any], binding: BindingSpec) -> type | None:
    """bytes, str or None (an InputStream) for the parameter bound to `binding`: its annotation first (the
    worker's rule), then the binding's `dataType`."""
    annotation = _annotation(function, binding.name)
    for candidate in (bytes, str):
        if annotation is candidate or annotation == candidate.__name__:
            return candidate
    if annotation not in (None, inspect.Parameter.empty):
        return None
    return {"binary": bytes, "string": str}.get(enum_text(binding.field("dataType")).lower())


def enum_text(value: Any) -> str:
    """A field as function.json spells it: the v2 decorators leave enums (DataType.STRING) in the metadata."""
    if isinstance(value, enum.Enum):
        return value.value if isinstance(value.value, str) else value.name
    return "" if value is None else str(value)


def _annotation(function: Callable[..., Any], name: str) -> Any:
    try:
        return typing.get_type_hints(function).get(name)
    except Exception:  # an annotation that does not evaluate: fall back on its text
        parameter = inspect.signature(function).parameters.get(name)
        return parameter.annotation if parameter is not None else None


register("blob", "in", BlobBinding())
register("blob", "out", BlobBinding())
