"""What the lean REST paths (queue_wire.py, table_wire.py) share: endpoint, Shared Key, session, counting.

Both sign requests with the account key (HMAC-SHA256 of a service-specific
string, "Authorize with Shared Key" in the storage REST docs), reuse one
aiohttp session per event loop, and record every request in the account's
RequestCounter exactly as the SDK hooks do.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable
from urllib.parse import urlsplit

import aiohttp

Recorder = Callable[[str, str, str], None]
"""RequestCounter.record: (service, method, url)."""


class SignedRestClient:
    def __init__(self, *, endpoint: str, account_name: str, account_key: str, record: Recorder) -> None:
        self._endpoint = endpoint.rstrip("/")
        self._base_path = urlsplit(self._endpoint).path
        self._account_name = account_name
        self._key = base64.b64decode(account_key)
        self._record = record
        self._session: aiohttp.ClientSession | None = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._endpoint!r})"  # never the key

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60, connect=10))
        return self._session

    def _shared_key(self, string_to_sign: str) -> str:
        signature = hmac.new(self._key, string_to_sign.encode("utf-8"), hashlib.sha256).digest()
        return f"SharedKey {self._account_name}:{base64.b64encode(signature).decode()}"
