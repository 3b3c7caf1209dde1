"""What the lean REST paths (queue_wire.py, table_wire.py) share: endpoint, Shared Key, session, counting.

Both sign requests with the account key (HMAC-SHA256 of a service-specific
string, "Authorize with Shared Key" in the storage REST docs), send them over
one pool of keep-alive connections (http_pool.py), and record every request in
the account's RequestCounter exactly as the SDK hooks do.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Callable
from email.utils import formatdate
from urllib.parse import urlsplit

from durable_azure.azure_storage.http_pool import HttpPool

Recorder = Callable[[str, str, str], None]
"""RequestCounter.record: (service, method, url)."""


class SignedRestClient:
    def __init__(self, *, endpoint: str, account_name: str, account_key: str, record: Recorder) -> None:
        self._endpoint = endpoint.rstrip("/")
        self._base_path = urlsplit(self._endpoint).path
        self._account_name = account_name
        self._key = base64.b64decode(account_key)
        self._record = record
        self._pool = HttpPool(self._endpoint)
        self._date_second = -1
        self._date = ""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._endpoint!r})"  # never the key

    async def close(self) -> None:
        await self._pool.close()

    def _now(self) -> str:
        """The x-ms-date header: RFC 1123, formatted once per second rather than once per request."""
        second = int(time.time())
        if second != self._date_second:
            self._date_second, self._date = second, formatdate(second, usegmt=True)
        return self._date

    def _shared_key(self, string_to_sign: str) -> str:
        signature = hmac.new(self._key, string_to_sign.encode("utf-8"), hashlib.sha256).digest()
        return f"SharedKey {self._account_name}:{base64.b64encode(signature).decode()}"
