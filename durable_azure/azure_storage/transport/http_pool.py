"""A small HTTP/1.1 client for the lean transport: keep-alive connections and nothing else.

The worker is CPU-bound on a small machine, and most of that CPU went into
the HTTP client: aiohttp costs about 0.35 ms per request (its request context
manager, multidict headers, tracing and cookie hooks), several times what the
storage call itself needs. Storage requests are small signed requests to a few
endpoints with small replies, so this client does only that: one asyncio
protocol per keep-alive connection, a reply framed by Content-Length or
chunked encoding (or the connection's end), TLS when the endpoint is https
(with the CA bundle the account was given), a cap on open connections, and a
timeout per request. No redirects, cookies, proxies or decompression: storage
does not use them, and an account behind a proxy uses the SDK transport
(choice.py).

A connection idle longer than the server keeps it (its `Keep-Alive: timeout=`,
Azurite's 5 s) is not reused, so a request rarely meets a connection the
server is closing. Every failure raises `TransportFailure`, saying whether the
request may have reached the server; the retry policy decides what happens next.
"""

from __future__ import annotations

import asyncio
import re
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from durable_azure.azure_storage.transport.failures import TransportFailure

CONNECT_TIMEOUT_SECONDS = 10.0
MAX_CONNECTIONS = 100
# Reused only if idle for less than this, or one second less than the server's Keep-Alive timeout.
MAX_IDLE_SECONDS = 30.0
_KEEP_ALIVE_TIMEOUT = re.compile(r"timeout=(\d+)")


@dataclass(frozen=True, slots=True)
class HttpReply:
    status: int
    headers: dict[str, str]  # names in lower case
    body: bytes


class HttpPool:
    """Keep-alive connections to one endpoint (scheme, host and port of `endpoint`), bound to one event loop."""

    def __init__(self, endpoint: str, *, tls: ssl.SSLContext | None = None) -> None:
        parts = urlsplit(endpoint)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) endpoint: {parts.scheme}://{parts.hostname}")
        self._host = parts.hostname
        self._port = parts.port or (443 if parts.scheme == "https" else 80)
        self._authority = parts.netloc.rpartition("@")[2]
        self._tls = (tls or ssl.create_default_context()) if parts.scheme == "https" else None
        self._max_idle = MAX_IDLE_SECONDS
        self._idle: list[_Connection] = []
        self._open: set[_Connection] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._slots = asyncio.Semaphore(MAX_CONNECTIONS)

    async def request(
        self, method: str, target: str, headers: Mapping[str, str], body: bytes, *, timeout: float
    ) -> HttpReply:
        """One request/reply exchange; `target` is the path and query, already encoded."""
        self._bind_to_running_loop()
        head = [f"{method} {target} HTTP/1.1\r\nHost: {self._authority}\r\n"]
        head += [f"{name}: {value}\r\n" for name, value in headers.items()]
        if body and not any(name.lower() == "content-length" for name in headers):
            head.append(f"Content-Length: {len(body)}\r\n")
        payload = "".join(head).encode("latin-1") + b"\r\n" + body
        async with self._slots:
            connection = await self._acquire()
            reply = await self._exchange(connection, method, payload, timeout)
            self._learn_keep_alive(reply)
            self._release(connection)
            return reply

    async def close(self) -> None:
        for connection in list(self._open):
            connection.close()
        self._idle.clear()
        self._open.clear()

    def _bind_to_running_loop(self) -> None:
        """Connections belong to the loop that opened them; a new loop (a new test, a restarted host) starts over."""
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            for connection in self._open:
                connection.close()
            self._idle.clear()
            self._open.clear()
            self._loop = loop
            self._slots = asyncio.Semaphore(MAX_CONNECTIONS)

    async def _acquire(self) -> _Connection:
        now = time.monotonic()
        while self._idle:
            connection = self._idle.pop()
            if not connection.closed and now - connection.idle_since < self._max_idle:
                return connection
            connection.close()
            self._open.discard(connection)
        assert self._loop is not None
        try:
            server_name = self._host if self._tls else None
            opening = self._loop.create_connection(
                _Connection, self._host, self._port, ssl=self._tls, server_hostname=server_name
            )
            async with asyncio.timeout(CONNECT_TIMEOUT_SECONDS):  # not wait_for: it can swallow a cancel() on 3.11
                _, connection = await opening
        except (OSError, TimeoutError) as error:
            reason = getattr(error, "strerror", None) or str(error) or type(error).__name__
            raise TransportFailure(f"cannot connect to {self._authority}: {reason}", is_sent=False) from error
        self._open.add(connection)
        return connection

    def _learn_keep_alive(self, reply: HttpReply) -> None:
        """Azurite keeps idle connections 5 s and says so; reuse them for less than that."""
        match = _KEEP_ALIVE_TIMEOUT.search(reply.headers.get("keep-alive", ""))
        if match is not None:
            self._max_idle = min(MAX_IDLE_SECONDS, max(0.0, int(match.group(1)) - 1.0))

    async def _exchange(self, connection: _Connection, method: str, payload: bytes, timeout: float) -> HttpReply:
        assert self._loop is not None
        reply = connection.send(self._loop, method, payload, timeout)
        timer = self._loop.call_later(timeout, connection.time_out)
        try:
            return await reply
        except BaseException:  # timed out, failed or cancelled mid-exchange: the connection's state is unknown
            connection.close()
            self._open.discard(connection)
            raise
        finally:
            timer.cancel()

    def _release(self, connection: _Connection) -> None:
        if connection.closed:
            self._open.discard(connection)
            return
        connection.idle_since = time.monotonic()
        self._idle.append(connection)


class _Connection(asyncio.Protocol):
    """One connection, one request at a time; parses the reply as bytes arrive."""

    def __init__(self) -> None:
        self.closed = False
        self.idle_since = 0.0
        self._transport: asyncio.Transport | None = None
        self._buffer = bytearray()
        self._reply: asyncio.Future[HttpReply] | None = None
        self._method = ""
        self._status = 0
        self._headers: dict[str, str] | None = None
        self._length = -1  # body length; -1: until the connection closes
        self._chunked = False
        self._received = False
        self._timeout = 0.0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def send(
        self, loop: asyncio.AbstractEventLoop, method: str, payload: bytes, timeout: float
    ) -> asyncio.Future[HttpReply]:
        assert self._transport is not None
        self._reply = loop.create_future()
        self._method, self._headers, self._received, self._timeout = method, None, False, timeout
        self._buffer.clear()
        self._transport.write(payload)
        return self._reply

    def data_received(self, data: bytes) -> None:
        self._received = True
        self._buffer += data
        if self._reply is None or self._reply.done():
            self.close()  # bytes nobody asked for: the framing is lost
            return
        try:
            self._parse()
        except (ValueError, IndexError) as error:
            self._fail(TransportFailure(f"malformed HTTP reply: {error}", is_sent=True))

    def eof_received(self) -> bool:
        self.closed = True  # the server hung up: never hand this connection out again
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self._reply is None or self._reply.done():
            return
        if self._headers is not None and self._length < 0 and not self._chunked:
            self._finish(bytes(self._buffer))  # a reply framed by the end of the connection
        elif self._received:
            self._fail(TransportFailure(f"connection closed mid-reply: {exc or 'end of stream'}", is_sent=True))
        else:
            self._fail(TransportFailure(f"connection closed before the reply: {exc or 'end of stream'}", is_sent=True))

    def time_out(self) -> None:
        self._fail(TransportFailure(f"no complete reply within {self._timeout:g} s", is_sent=True))

    def close(self) -> None:
        self.closed = True
        if self._transport is not None:
            self._transport.abort()

    def _fail(self, error: Exception) -> None:
        if self._reply is not None and not self._reply.done():
            self._reply.set_exception(error)
        self.close()

    def _parse(self) -> None:
        if self._headers is None and not self._parse_head():
            return
        if self._chunked:
            body = _dechunk(self._buffer)
            if body is not None:
                self._finish(body)
        elif 0 <= self._length <= len(self._buffer):
            self._finish(bytes(self._buffer[: self._length]))

    def _parse_head(self) -> bool:
        end = self._buffer.find(b"\r\n\r\n")
        if end < 0:
            return False
        lines = self._buffer[:end].decode("latin-1").split("\r\n")
        del self._buffer[: end + 4]
        status = int(lines[0].split(" ", 2)[1])
        if 100 <= status < 200:  # an interim reply (100 Continue): the real one follows
            return self._parse_head()
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            name = name.strip().lower()
            headers[name] = f"{headers[name]}, {value.strip()}" if name in headers else value.strip()
        self._status, self._headers = status, headers
        self._chunked = "chunked" in headers.get("transfer-encoding", "").lower()
        if self._method == "HEAD" or status in (204, 304):
            self._length = 0
        else:
            self._length = int(headers["content-length"]) if "content-length" in headers else -1
        return True

    def _finish(self, body: bytes) -> None:
        assert self._reply is not None and self._headers is not None
        if self._headers.get("connection", "").lower() == "close":
            self.close()
        self._reply.set_result(HttpReply(self._status, self._headers, body))


def _dechunk(buffer: bytearray) -> bytes | None:
    """The body of a complete chunked reply in `buffer`, or None while it is still incomplete."""
    body = bytearray()
    position = 0
    while True:
        line_end = buffer.find(b"\r\n", position)
        if line_end < 0:
            return None
        size = int(bytes(buffer[position:line_end]).split(b";", 1)[0].strip(), 16)
        if size == 0:
            return bytes(body) if _trailers_end(buffer, line_end + 2) else None
        start = line_end + 2
        if len(buffer) < start + size + 2:
            return None
        body += buffer[start : start + size]
        position = start + size + 2


def _trailers_end(buffer: bytearray, position: int) -> bool:
    """Whether the trailer section after the last chunk (usually empty) is complete: it ends with an empty line."""
    while True:
        line_end = buffer.find(b"\r\n", position)
        if line_end < 0:
            return False
        if line_end == position:
            return True
        position = line_end + 2
