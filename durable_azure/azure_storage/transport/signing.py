"""The one request signer of an account: Shared Key, a shared access signature, or a bearer token.

Every request of every service goes through `Signer.sign` on each attempt
(a retry is signed again: Shared Key signs the date, a token may have been
refreshed). Shared Key follows "Authorize with Shared Key" in the storage REST
docs (reference/identity-connections.md §7): blob and queue sign the verb,
eleven standard headers, every `x-ms-*` header and the canonical resource;
tables sign the verb, Content-MD5, Content-Type, the date and the resource.
Nothing here logs or repr()s a key, signature or token.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import MutableMapping
from typing import Protocol
from urllib.parse import parse_qsl

from durable_azure.azure_storage.transport.request import Service

_STANDARD_HEADERS = (
    "content-encoding",
    "content-language",
    "content-length",
    "content-md5",
    "content-type",
    "date",
    "if-modified-since",
    "if-match",
    "if-none-match",
    "if-unmodified-since",
    "range",
)


class TokenProvider(Protocol):
    """Where a bearer signer gets its token (azure_storage/credentials.py's TokenSource)."""

    async def token(self) -> str: ...

    async def close(self) -> None: ...


class Signer(Protocol):
    """Adds the credential to one attempt of a request: headers and/or query parameters."""

    kind: str
    """"Shared Key", "SAS" or "bearer token": for messages about the credential, never its value."""

    async def sign(
        self,
        service: Service,
        method: str,
        url_path: str,
        query: list[tuple[str, str]],
        headers: MutableMapping[str, str],
    ) -> None:
        """`url_path` is the encoded path as sent (with the endpoint's own path, Azurite's /account)."""
        ...


class SharedKeySigner:
    kind = "Shared Key"

    def __init__(self, account_name: str, account_key: str) -> None:
        self._account_name = account_name
        self._key = base64.b64decode(account_key)

    def __repr__(self) -> str:
        return f"SharedKeySigner(account_name={self._account_name!r})"

    async def sign(
        self,
        service: Service,
        method: str,
        url_path: str,
        query: list[tuple[str, str]],
        headers: MutableMapping[str, str],
    ) -> None:
        lowered = {name.lower(): value for name, value in headers.items()}
        if service is Service.TABLE:
            string_to_sign = self._table_string(method, url_path, query, lowered)
        else:
            string_to_sign = self._blob_queue_string(method, url_path, query, lowered)
        signature = hmac.new(self._key, string_to_sign.encode("utf-8"), hashlib.sha256).digest()
        headers["Authorization"] = f"SharedKey {self._account_name}:{base64.b64encode(signature).decode()}"

    def _blob_queue_string(
        self, method: str, url_path: str, query: list[tuple[str, str]], headers: dict[str, str]
    ) -> str:
        standard = [headers.get(name, "") for name in _STANDARD_HEADERS]
        if standard[2] == "0":  # Content-Length: empty when zero (version 2015-02-21 and later)
            standard[2] = ""
        canonical_headers = "".join(
            f"{name}:{headers[name].strip()}\n" for name in sorted(headers) if name.startswith("x-ms-")
        )
        parameters: dict[str, list[str]] = {}
        for name, value in query:
            parameters.setdefault(name.lower(), []).append(value)
        canonical_query = "".join(f"\n{name}:{','.join(sorted(values))}" for name, values in sorted(parameters.items()))
        resource = f"/{self._account_name}{url_path}{canonical_query}"
        return "\n".join([method, *standard]) + "\n" + canonical_headers + resource

    def _table_string(self, method: str, url_path: str, query: list[tuple[str, str]], headers: dict[str, str]) -> str:
        resource = f"/{self._account_name}{url_path}"
        component = next((value for name, value in query if name.lower() == "comp"), None)
        if component is not None:
            resource += f"?comp={component}"
        date = headers.get("x-ms-date", headers.get("date", ""))
        return "\n".join([method, headers.get("content-md5", ""), headers.get("content-type", ""), date, resource])


class SasSigner:
    """A shared access signature: its parameters are added to every request's query."""

    kind = "SAS"

    def __init__(self, token: str) -> None:
        self._parameters = parse_qsl(token.lstrip("?"), keep_blank_values=True)

    def __repr__(self) -> str:
        return "SasSigner()"

    async def sign(
        self,
        service: Service,
        method: str,
        url_path: str,
        query: list[tuple[str, str]],
        headers: MutableMapping[str, str],
    ) -> None:
        query.extend(self._parameters)


class BearerSigner:
    """A Microsoft Entra ID token for https://storage.azure.com, from the connection's identity."""

    kind = "bearer token"

    def __init__(self, tokens: TokenProvider) -> None:
        self._tokens = tokens

    def __repr__(self) -> str:
        return "BearerSigner()"

    async def close(self) -> None:
        await self._tokens.close()

    async def sign(
        self,
        service: Service,
        method: str,
        url_path: str,
        query: list[tuple[str, str]],
        headers: MutableMapping[str, str],
    ) -> None:
        headers["Authorization"] = f"Bearer {await self._tokens.token()}"
