"""HTTP/1.1 as the fault proxy relays it: messages read and written byte for byte, and the upstream connection.

A message's body is kept as framed on the wire (chunked stays chunked), so a relayed request or response is the
one the peer sent. The proxy's fault decisions are not here (plan.py), nor its listeners (server.py).

Standard library only, and nothing from the rest of the proxy package.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import socket
import struct
import time
import uuid
from dataclasses import dataclass
from email.utils import formatdate

logger = logging.getLogger(__name__)

LINE_LIMIT = 1 << 20  # longest request line or header line accepted


class MalformedMessageError(Exception):
    """A peer sent something that is not HTTP/1.1 as this proxy relays it."""


class _UpstreamClosedError(ConnectionError):
    """The upstream closed the connection before answering a single byte (a stale keep-alive connection)."""


@dataclass(slots=True)
class HttpMessage:
    """One request or response: start line, headers in their order and spelling, body bytes as framed on the wire."""

    start_line: str
    headers: list[tuple[str, str]]
    body: bytes = b""
    is_framed_by_close: bool = False  # a response whose body ends where the connection ends

    def header(self, name: str) -> str | None:
        values = [value for header_name, value in self.headers if header_name.lower() == name]
        return ", ".join(values) if values else None

    @property
    def keeps_alive(self) -> bool:
        """HTTP/1.1 keeps the connection unless told otherwise; HTTP/1.0 only when told to."""
        connection = (self.header("connection") or "").lower()
        if self.is_framed_by_close or "close" in connection:
            return False
        return "HTTP/1.0" not in self.start_line or "keep-alive" in connection

    def method_and_target(self) -> tuple[str, str]:
        """A request's method and target (path and query)."""
        parts = self.start_line.split(" ")
        if len(parts) != 3:
            raise MalformedMessageError(f"not a request line: {self.start_line[:80]!r}")
        return parts[0], parts[1]

    def encode(self) -> bytes:
        head = "".join(f"{name}: {value}\r\n" for name, value in self.headers)
        return f"{self.start_line}\r\n{head}\r\n".encode("latin-1") + self.body


async def read_line(reader: asyncio.StreamReader, *, is_end_allowed: bool = False) -> bytes:
    """One whole line; b"" only where `is_end_allowed` and the peer closed cleanly (between two messages)."""
    try:
        line = await reader.readline()
    except ValueError as error:  # StreamReader's answer to a line longer than its limit
        raise MalformedMessageError("line too long") from error
    if not line.endswith(b"\n") and not (is_end_allowed and line == b""):
        raise asyncio.IncompleteReadError(line, None)
    return line


async def read_message(reader: asyncio.StreamReader, start_line: bytes, *, request_method: str | None) -> HttpMessage:
    """The rest of a message whose start line was read; `request_method` is None for a request, else a response."""
    headers: list[tuple[str, str]] = []
    while (line := await read_line(reader)) not in (b"\r\n", b"\n"):
        name, separator, value = line.decode("latin-1").partition(":")
        if not separator:
            raise MalformedMessageError(f"not a header line: {line[:80]!r}")
        headers.append((name.strip(), value.strip()))
    message = HttpMessage(start_line.decode("latin-1").rstrip("\r\n"), headers)
    if request_method is not None and _has_no_body(message, request_method):
        return message
    transfer_encoding = (message.header("transfer-encoding") or "").lower()
    content_length = message.header("content-length")
    if transfer_encoding.rsplit(",", 1)[-1].strip() == "chunked":
        message.body = await _read_chunked(reader)
    elif content_length is not None:
        message.body = await reader.readexactly(_length_of(content_length))
    elif request_method is not None:
        message.body, message.is_framed_by_close = await reader.read(), True
    return message


def _length_of(content_length: str) -> int:
    if not content_length.isdigit():
        raise MalformedMessageError(f"Content-Length {content_length[:80]!r}")
    return int(content_length)


def _has_no_body(response: HttpMessage, request_method: str) -> bool:
    status = _status_of(response)
    return request_method == "HEAD" or status in (204, 304) or 100 <= status < 200


def _status_of(response: HttpMessage) -> int:
    try:
        return int(response.start_line.split(" ", 2)[1])
    except (IndexError, ValueError) as error:
        raise MalformedMessageError(response.start_line) from error


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    """A chunked body kept as framed (size lines, chunks, trailers), so it is relayed byte for byte."""
    parts: list[bytes] = []
    while True:
        size_line = await read_line(reader)
        parts.append(size_line)
        try:
            size = int(size_line.split(b";", 1)[0].strip(), 16)
        except ValueError as error:
            raise MalformedMessageError(size_line) from error
        if size == 0:
            break
        parts.append(await reader.readexactly(size + 2))
    while (trailer := await read_line(reader)) not in (b"\r\n", b"\n"):
        parts.append(trailer)
    parts.append(trailer)
    return b"".join(parts)


def error_response(service: str, status: str, code: str, message: str, extra_headers: list[tuple[str, str]]) -> bytes:
    """An error as Azure Storage words it: XML for blobs and queues, OData JSON for tables."""
    request_id = str(uuid.uuid4())
    detail = f"{message}\nRequestId:{request_id}\nTime:{time.strftime('%Y-%m-%dT%H:%M:%S.0000000Z', time.gmtime())}"
    if service == "table":
        content_type = "application/json;odata=minimalmetadata;streaming=true;charset=utf-8"
        body = json.dumps({"odata.error": {"code": code, "message": {"lang": "en-US", "value": detail}}})
    else:
        content_type = "application/xml"
        body = f'<?xml version="1.0" encoding="utf-8"?><Error><Code>{code}</Code><Message>{detail}</Message></Error>'
    encoded = body.encode()
    headers = [("Content-Type", content_type), ("Content-Length", str(len(encoded))), ("x-ms-error-code", code)]
    headers += [("x-ms-request-id", request_id), ("Date", formatdate(usegmt=True)), *extra_headers]
    return HttpMessage(f"HTTP/1.1 {status}", headers, encoded).encode()


def reset(writer: asyncio.StreamWriter) -> None:
    """Abort with a TCP RST (linger 0), as a dropped network connection looks to the client."""
    connection_socket = writer.get_extra_info("socket")
    if connection_socket is not None:
        with contextlib.suppress(OSError):
            connection_socket.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


class UpstreamLink:
    """The one upstream connection behind one client connection: opened on first use, reopened when closed."""

    def __init__(self, host: str, port: int) -> None:
        self._host, self._port = host, port
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._has_answered = False  # whether the current connection is a kept-alive one

    async def exchange(self, request: HttpMessage) -> HttpMessage:
        """Send the request, return the whole response; OSError when the upstream cannot be reached.

        A kept-alive connection the upstream closed before answering a byte (Azurite drops idle ones after 5 s)
        is retried once on a fresh connection: the upstream never saw that request.
        """
        if self._reader is None or self._reader.at_eof():
            await self._open()
        was_kept_alive = self._has_answered
        try:
            response = await self._send(request)
        except _UpstreamClosedError:
            self.close()
            if not was_kept_alive:
                raise
            logger.debug("fault proxy: upstream closed a kept-alive connection; retrying on a fresh one")
            await self._open()
            response = await self._send(request)
        if not response.keeps_alive:
            self.close()
        return response

    async def _open(self) -> None:
        self.close()
        self._reader, self._writer = await asyncio.open_connection(self._host, self._port, limit=LINE_LIMIT)
        self._has_answered = False

    async def _send(self, request: HttpMessage) -> HttpMessage:
        assert self._reader is not None and self._writer is not None
        try:
            self._writer.write(request.encode())
            await self._writer.drain()
            status_line = await read_line(self._reader, is_end_allowed=True)
        except ConnectionError as error:
            raise _UpstreamClosedError(str(error)) from error
        if not status_line:
            raise _UpstreamClosedError("closed before answering")
        self._has_answered = True
        method, _ = request.method_and_target()
        response = await read_message(self._reader, status_line, request_method=method)
        while 100 <= _status_of(response) < 200:  # interim answers (100 Continue) are not relayed
            response = await read_message(self._reader, await read_line(self._reader), request_method=method)
        return response

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self._reader = self._writer = None
