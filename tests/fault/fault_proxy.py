"""A fault-injecting loopback HTTP proxy between durable-azure workers and Azurite, for the fault tests.

DESIGN.md asks the fault tests to inject storage faults through a loopback proxy. This is that proxy: three
listening ports, one per storage service (blob, queue, table), each relaying HTTP/1.1 to the matching Azurite
port, and drawing for every request at most one fault from a seeded FaultPlan:

    busy          503 ServerBusy with Retry-After, not forwarded (throttling)
    timeout       500 OperationTimedOut, not forwarded
    reset_before  connection reset, not forwarded: the write did not happen
    drop_after    forwarded, response read, then connection reset: the write happened, the client saw an error
    delay         forwarded, response held back for a while (slow storage)

Requests are classified into the kinds the storage account's request counter uses (queue.send, table.batch, ...),
so a plan can aim at one kind, and the statistics count per kind and fault.

Use FaultProxy in the test's event loop (`async with FaultProxy(...) as proxy`), or FaultProxyThread from
synchronous fixtures that start worker subprocesses: it runs the same proxy on its own loop in a thread.
`python -m tests.fault.fault_proxy --help` puts it in front of an Azurite by hand.

Standard library only, plus the connection-string builder of durable_azure.azurite: the proxy must not depend on
the storage code it is there to test.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import math
import random
import socket
import struct
import threading
import time
import uuid
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.utils import formatdate
from enum import StrEnum
from functools import partial
from types import TracebackType
from urllib.parse import parse_qs, urlsplit

from durable_azure.azurite import Azurite, development_connection_string

logger = logging.getLogger(__name__)

SERVICES = ("blob", "queue", "table")
_QUEUE_KINDS = ("queue.send", "queue.receive", "queue.delete", "queue.update")
_TABLE_KINDS = (
    "table.batch",
    "table.query",
    "table.get",
    "table.insert",
    "table.update",
    "table.merge",
    "table.delete",
)
_BLOB_KINDS = ("blob.lease", "blob.upload", "blob.download", "blob.list", "blob.delete")
KINDS = frozenset((*_QUEUE_KINDS, *_TABLE_KINDS, *_BLOB_KINDS, "other"))
OUTAGE = "outage"  # the statistics' fault name for requests reset during begin_outage(); never drawn from a plan
_LINE_LIMIT = 1 << 20  # longest request line or header line accepted
_UPSTREAM_TIMEOUT_SECONDS = 120.0  # a hung Azurite must not pin a connection task forever


class Fault(StrEnum):
    """What the proxy does to a request instead of relaying it faithfully; one draw picks in this order."""

    BUSY = "busy"
    TIMEOUT = "timeout"
    RESET_BEFORE = "reset_before"
    DROP_AFTER = "drop_after"
    DELAY = "delay"


@dataclass(frozen=True, slots=True)
class ServicePorts:
    """One port per storage service, for the upstream (Azurite) or the proxy's own listeners (0: a free one)."""

    blob: int = 0
    queue: int = 0
    table: int = 0

    @classmethod
    def of_azurite(cls, azurite: Azurite) -> ServicePorts:
        return cls(blob=azurite.blob_port, queue=azurite.queue_port, table=azurite.table_port)

    def of(self, service: str) -> int:
        return int(getattr(self, service))


@dataclass(frozen=True, slots=True, kw_only=True)
class FaultPlan:
    """Which faults to inject and how often; the same seed gives the same sequence of draws.

    `rates` maps a fault to its probability for every request kind; `kind_rates` overrides it, fault by fault,
    for single kinds: FaultPlan(rates={"busy": 0.05}, kind_rates={"table.batch": {"drop_after": 0.1}}) gives
    table batches busy 0.05 and drop_after 0.1, every other kind busy 0.05. One kind's rates add up to at most 1.
    """

    rates: Mapping[str, float] = field(default_factory=dict)
    kind_rates: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    seed: int = 0
    retry_after_seconds: int = 1
    delay_seconds: tuple[float, float] = (0.5, 2.0)

    def __post_init__(self) -> None:
        """Reject typos and impossible numbers: a misspelt kind or fault would otherwise inject nothing, silently."""
        unknown_kinds = set(self.kind_rates) - KINDS
        if unknown_kinds:
            raise ValueError(f"FaultPlan: unknown request kinds {sorted(unknown_kinds)}; known: {sorted(KINDS)}")
        for kind in KINDS:
            rates = self.rates_for(kind)
            if any(not 0.0 <= rate <= 1.0 for rate in rates.values()) or sum(rates.values()) > 1.0 + 1e-9:
                raise ValueError(f"FaultPlan: rates for {kind} must be within [0, 1] and add up to at most 1")
        shortest, longest = self.delay_seconds
        if not 0.0 <= shortest <= longest:
            raise ValueError("FaultPlan: delay_seconds must be (shortest, longest) with 0 <= shortest <= longest")

    def rates_for(self, kind: str) -> dict[Fault, float]:
        """This kind's probability of each fault (ValueError names an unknown fault)."""
        merged = {Fault(name): rate for name, rate in self.rates.items()}
        merged.update({Fault(name): rate for name, rate in self.kind_rates.get(kind, {}).items()})
        return merged

    def choose(self, kind: str, draw: float) -> Fault | None:
        """The fault a uniform draw in [0, 1) picks for this kind, if any."""
        threshold = 0.0
        rates = self.rates_for(kind)
        for fault in Fault:
            threshold += rates.get(fault, 0.0)
            if draw < threshold:
                return fault
        return None


@dataclass(frozen=True, slots=True)
class ProxyStatistics:
    """A snapshot of what the proxy did, for a test to assert on or to print."""

    forwarded: Mapping[str, int]  # kind -> requests relayed upstream (drop_after and delay ones included)
    injected: Mapping[tuple[str, str], int]  # (kind, fault or "outage") -> requests that fault hit
    upstream_errors: Mapping[str, int]  # kind -> requests reset because the upstream refused, reset or hung

    def fault_count(self, fault: str | None = None, kind: str | None = None) -> int:
        """Injected faults, all of them or only one fault and/or one kind."""
        return sum(
            count
            for (counted_kind, counted_fault), count in self.injected.items()
            if fault in (None, counted_fault) and kind in (None, counted_kind)
        )

    def summary(self) -> str:
        """One line for a test's report: requests forwarded and faults injected, per fault."""
        per_fault = Counter[str]()
        for (_, fault), count in self.injected.items():
            per_fault[fault] += count
        faults = ", ".join(f"{fault}={count}" for fault, count in sorted(per_fault.items())) or "none"
        upstream_errors = sum(self.upstream_errors.values())
        return f"forwarded {sum(self.forwarded.values())}, upstream errors {upstream_errors}, faults: {faults}"


class _StatisticsRecorder:
    """Counters written on the proxy's loop and read from any thread (FaultProxyThread's callers)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._forwarded = Counter[str]()
        self._injected = Counter[tuple[str, str]]()
        self._upstream_errors = Counter[str]()

    def count_forwarded(self, kind: str) -> None:
        with self._lock:
            self._forwarded[kind] += 1

    def count_fault(self, kind: str, fault: str) -> None:
        with self._lock:
            self._injected[(kind, fault)] += 1

    def count_upstream_error(self, kind: str) -> None:
        with self._lock:
            self._upstream_errors[kind] += 1

    def snapshot(self) -> ProxyStatistics:
        with self._lock:
            return ProxyStatistics(dict(self._forwarded), dict(self._injected), dict(self._upstream_errors))


def classify(service: str, method: str, target: str) -> str:
    """The request kind, as durable_azure's request counter names it (a copy: the proxy must not import it)."""
    parts = urlsplit(target)
    query = {key.lower(): values[-1] for key, values in parse_qs(parts.query).items()}
    if service == "queue":
        return _classify_queue(method, parts.path, query)
    if service == "table":
        return _classify_table(method, parts.path)
    return _classify_blob(method, query)


def _classify_queue(method: str, path: str, query: dict[str, str]) -> str:
    if path.endswith("/messages"):
        if method == "POST":
            return "queue.send"
        if method == "GET" and query.get("peekonly") != "true":
            return "queue.receive"
        return "other"
    if "/messages/" in path:
        return {"DELETE": "queue.delete", "PUT": "queue.update"}.get(method, "other")
    return "other"


def _classify_table(method: str, path: str) -> str:
    last_segment = path.rstrip("/").rsplit("/", 1)[-1]
    if last_segment == "$batch":
        return "table.batch"
    if last_segment.startswith("Tables"):
        return "other"
    if "(" in last_segment and not last_segment.endswith("()"):
        entity_kinds = {"GET": "table.get", "PUT": "table.update", "PATCH": "table.merge", "MERGE": "table.merge"}
        return {**entity_kinds, "DELETE": "table.delete"}.get(method, "other")
    return {"GET": "table.query", "POST": "table.insert"}.get(method, "other")


def _classify_blob(method: str, query: dict[str, str]) -> str:
    component = query.get("comp")
    if component == "lease":
        return "blob.lease"
    if query.get("restype") == "container":
        return "blob.list" if component == "list" else "other"
    if component is None:
        return {"PUT": "blob.upload", "GET": "blob.download", "DELETE": "blob.delete"}.get(method, "other")
    return "other"


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


async def _read_line(reader: asyncio.StreamReader, *, is_end_allowed: bool = False) -> bytes:
    """One whole line; b"" only where `is_end_allowed` and the peer closed cleanly (between two messages)."""
    try:
        line = await reader.readline()
    except ValueError as error:  # StreamReader's answer to a line longer than its limit
        raise MalformedMessageError("line too long") from error
    if not line.endswith(b"\n") and not (is_end_allowed and line == b""):
        raise asyncio.IncompleteReadError(line, None)
    return line


async def _read_message(reader: asyncio.StreamReader, start_line: bytes, *, request_method: str | None) -> HttpMessage:
    """The rest of a message whose start line was read; `request_method` is None for a request, else a response."""
    headers: list[tuple[str, str]] = []
    while (line := await _read_line(reader)) not in (b"\r\n", b"\n"):
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
        size_line = await _read_line(reader)
        parts.append(size_line)
        try:
            size = int(size_line.split(b";", 1)[0].strip(), 16)
        except ValueError as error:
            raise MalformedMessageError(size_line) from error
        if size == 0:
            break
        parts.append(await reader.readexactly(size + 2))
    while (trailer := await _read_line(reader)) not in (b"\r\n", b"\n"):
        parts.append(trailer)
    parts.append(trailer)
    return b"".join(parts)


def _error_response(service: str, status: str, code: str, message: str, extra_headers: list[tuple[str, str]]) -> bytes:
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


def _reset(writer: asyncio.StreamWriter) -> None:
    """Abort with a TCP RST (linger 0), as a dropped network connection looks to the client."""
    connection_socket = writer.get_extra_info("socket")
    if connection_socket is not None:
        with contextlib.suppress(OSError):
            connection_socket.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


class _UpstreamLink:
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
        self._reader, self._writer = await asyncio.open_connection(self._host, self._port, limit=_LINE_LIMIT)
        self._has_answered = False

    async def _send(self, request: HttpMessage) -> HttpMessage:
        assert self._reader is not None and self._writer is not None
        try:
            self._writer.write(request.encode())
            await self._writer.drain()
            status_line = await _read_line(self._reader, is_end_allowed=True)
        except ConnectionError as error:
            raise _UpstreamClosedError(str(error)) from error
        if not status_line:
            raise _UpstreamClosedError("closed before answering")
        self._has_answered = True
        method, _ = request.method_and_target()
        response = await _read_message(self._reader, status_line, request_method=method)
        while 100 <= _status_of(response) < 200:  # interim answers (100 Continue) are not relayed
            response = await _read_message(self._reader, await _read_line(self._reader), request_method=method)
        return response

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self._reader = self._writer = None


class FaultProxy:
    """Three loopback listeners (blob, queue, table) relaying to the upstream ports, injecting the plan's faults.

    Runs in the event loop that calls start(). pause(), resume(), begin_outage(), end_outage() and statistics()
    may be called from any thread. A restart keeps the ports, so connection strings handed out stay valid.
    """

    def __init__(
        self,
        upstream: ServicePorts,
        plan: FaultPlan | None = None,
        *,
        upstream_host: str = "127.0.0.1",
        host: str = "127.0.0.1",
        ports: ServicePorts | None = None,
        is_paused: bool = False,
    ) -> None:
        self.upstream, self.upstream_host, self.host = upstream, upstream_host, host
        self.plan = plan if plan is not None else FaultPlan()
        self._random = random.Random(self.plan.seed)
        self._ports = ports if ports is not None else ServicePorts()
        self._is_paused = is_paused
        self._outage_until: float | None = None
        self._statistics = _StatisticsRecorder()
        self._servers: list[asyncio.Server] = []
        self._connections: dict[asyncio.Task[None], asyncio.StreamWriter] = {}
        self._is_stopping = False

    @property
    def ports(self) -> ServicePorts:
        """The listening ports (the chosen ones once started)."""
        return self._ports

    @property
    def connection_string(self) -> str:
        """The devstoreaccount1 connection string that sends every request through this proxy."""
        return development_connection_string(self.host, self._ports.blob, self._ports.queue, self._ports.table)

    @property
    def is_paused(self) -> bool:
        return self._is_paused

    def pause(self) -> None:
        """Relay every request faithfully until resume(), e.g. while a test creates its task hub."""
        self._is_paused = True

    def resume(self) -> None:
        self._is_paused = False

    @property
    def is_in_outage(self) -> bool:
        until = self._outage_until
        return until is not None and time.monotonic() < until

    def begin_outage(self, seconds: float | None = None) -> None:
        """Reset every request, as if storage were unreachable, for `seconds` or until end_outage()."""
        self._outage_until = time.monotonic() + (math.inf if seconds is None else seconds)

    def end_outage(self) -> None:
        self._outage_until = None

    def statistics(self) -> ProxyStatistics:
        return self._statistics.snapshot()

    async def start(self) -> None:
        """Listen on the three ports (free ones for those given as 0)."""
        if self._servers:
            raise RuntimeError("FaultProxy is already started")
        self._is_stopping = False
        bound: dict[str, int] = {}
        try:
            for service in SERVICES:
                accept = partial(self._accept, service)
                port = self._ports.of(service)
                server = await asyncio.start_server(accept, self.host, port, limit=_LINE_LIMIT)
                self._servers.append(server)
                bound[service] = int(server.sockets[0].getsockname()[1])
        except BaseException:
            await self.stop()
            raise
        self._ports = ServicePorts(**bound)

    async def stop(self) -> None:
        """Close the listeners and reset every client connection (with its upstream connection). Idempotent."""
        self._is_stopping = True
        # Stop accepting first, and let the connections accepted just now become transports: closing a Server
        # while one is still being made fails it half-made (an assertion in asyncio's Server._attach), which
        # leaks its socket. Those connections then meet _is_stopping in _accept and are reset.
        loop = asyncio.get_running_loop()
        for server in self._servers:
            for listening_socket in server.sockets:
                loop.remove_reader(listening_socket.fileno())
        await asyncio.sleep(0)
        for server in self._servers:
            server.close()
        while self._connections:
            for task, writer in list(self._connections.items()):
                _reset(writer)  # here, not in the task: a task cancelled before its first step runs no code
                task.cancel()
            await asyncio.gather(*self._connections, return_exceptions=True)
        # Only after the connections: from Python 3.12 on, wait_closed() also waits for them.
        for server in self._servers:
            await server.wait_closed()
        self._servers = []
        await asyncio.sleep(0)  # lets the closed transports finish closing

    async def __aenter__(self) -> FaultProxy:
        await self.start()
        return self

    async def __aexit__(
        self, error_type: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        await self.stop()

    def _accept(self, service: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Called as each connection is made: registered at once, so that stop() cannot miss one in flight."""
        if self._is_stopping:
            _reset(writer)
            return
        task = asyncio.get_running_loop().create_task(self._serve(service, reader, writer))
        self._connections[task] = writer
        task.add_done_callback(lambda finished: self._connections.pop(finished, None))

    async def _serve(self, service: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """One client connection: one request at a time, answered (or faulted) before the next is read."""
        upstream = _UpstreamLink(self.upstream_host, self.upstream.of(service))
        try:
            while not self._is_stopping:
                start_line = await _read_line(reader, is_end_allowed=True)
                if not start_line:
                    break
                request = await _read_message(reader, start_line, request_method=None)
                if not await self._answer(service, request, writer, upstream):
                    break
        except asyncio.CancelledError:
            _reset(writer)
            raise
        except (ConnectionError, asyncio.IncompleteReadError, MalformedMessageError) as error:
            logger.debug("fault proxy: %s client connection ended: %r", service, error)
            _reset(writer)
        except Exception:
            logger.exception("fault proxy: unexpected error on a %s connection", service)
            _reset(writer)
        finally:
            upstream.close()
            writer.close()

    async def _answer(
        self, service: str, request: HttpMessage, client: asyncio.StreamWriter, upstream: _UpstreamLink
    ) -> bool:
        """Relay one request, or inject its fault; returns whether the client connection stays open."""
        method, target = request.method_and_target()
        kind = classify(service, method, target)
        if self.is_in_outage:
            return self._reset_client(client, kind, OUTAGE)
        fault = None if self._is_paused else self.plan.choose(kind, self._random.random())
        if fault in (Fault.BUSY, Fault.TIMEOUT):
            self._statistics.count_fault(kind, fault)
            logger.debug("fault proxy: %s for %s %s", fault, method, target)
            client.write(self._fault_response(service, fault))
            await client.drain()
            return request.keeps_alive
        if fault is Fault.RESET_BEFORE:
            return self._reset_client(client, kind, fault)
        try:
            async with asyncio.timeout(_UPSTREAM_TIMEOUT_SECONDS):
                response = await upstream.exchange(request)
        except (OSError, EOFError, MalformedMessageError) as error:  # refused, reset, broken off, timed out
            self._statistics.count_upstream_error(kind)
            logger.debug("fault proxy: upstream failed for %s %s: %r", method, target, error)
            _reset(client)
            return False
        self._statistics.count_forwarded(kind)
        if fault is Fault.DROP_AFTER:
            return self._reset_client(client, kind, fault)
        if fault is Fault.DELAY:
            self._statistics.count_fault(kind, fault)
            await asyncio.sleep(self._random.uniform(*self.plan.delay_seconds))
        client.write(response.encode())
        await client.drain()
        return response.keeps_alive and request.keeps_alive

    def _reset_client(self, client: asyncio.StreamWriter, kind: str, fault: str) -> bool:
        self._statistics.count_fault(kind, fault)
        logger.debug("fault proxy: %s for a %s request", fault, kind)
        _reset(client)
        return False

    def _fault_response(self, service: str, fault: Fault) -> bytes:
        if fault is Fault.BUSY:
            retry_after = [("Retry-After", str(self.plan.retry_after_seconds))]
            message = "The server is currently unable to receive requests. Please retry your request."
            return _error_response(service, "503 Service Unavailable", "ServerBusy", message, retry_after)
        message = "The operation could not be completed within the permitted time."
        return _error_response(service, "500 Internal Server Error", "OperationTimedOut", message, [])


class FaultProxyThread:
    """A FaultProxy on its own event loop in a daemon thread, for synchronous fixtures that start workers.

    pytest-asyncio gives each test its own loop, so a proxy that outlives one test's loop, or serves worker
    subprocesses from a synchronous fixture, runs here. The control methods are the proxy's, all thread-safe.
    """

    def __init__(self, proxy: FaultProxy) -> None:
        self.proxy = proxy
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_requested: asyncio.Event | None = None

    @property
    def ports(self) -> ServicePorts:
        return self.proxy.ports

    @property
    def connection_string(self) -> str:
        return self.proxy.connection_string

    def statistics(self) -> ProxyStatistics:
        return self.proxy.statistics()

    def pause(self) -> None:
        self.proxy.pause()

    def resume(self) -> None:
        self.proxy.resume()

    def begin_outage(self, seconds: float | None = None) -> None:
        self.proxy.begin_outage(seconds)

    def end_outage(self) -> None:
        self.proxy.end_outage()

    def start(self, timeout: float = 10.0) -> None:
        """Start the thread and return once the three ports listen (or raise what prevented it)."""
        if self._thread is not None:
            raise RuntimeError("FaultProxyThread is already started")
        is_ready = threading.Event()
        failures: list[Exception] = []
        self._thread = threading.Thread(
            target=asyncio.run, args=(self._run(is_ready, failures),), name="fault-proxy", daemon=True
        )
        self._thread.start()
        if not is_ready.wait(timeout):
            raise TimeoutError("the fault proxy did not start in time")
        if failures:
            self._thread.join()
            self._thread = None
            raise failures[0]

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the proxy (every connection reset, ports freed) and join the thread. Idempotent."""
        if self._thread is None:
            return
        if self._loop is not None and self._stop_requested is not None:
            self._loop.call_soon_threadsafe(self._stop_requested.set)
        self._thread.join(timeout)
        self._thread = None

    def __enter__(self) -> FaultProxyThread:
        self.start()
        return self

    def __exit__(
        self, error_type: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()

    async def _run(self, is_ready: threading.Event, failures: list[Exception]) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop_requested = asyncio.Event()
        try:
            await self.proxy.start()
        except Exception as error:
            failures.append(error)
            return
        finally:
            is_ready.set()
        try:
            await self._stop_requested.wait()
        finally:
            await self.proxy.stop()


def _parse_ports(text: str) -> ServicePorts:
    blob, queue, table = (int(port) for port in text.split(","))
    return ServicePorts(blob=blob, queue=queue, table=table)


def _parse_plan(arguments: argparse.Namespace) -> FaultPlan:
    rates = {fault: float(rate) for fault, _, rate in (text.partition("=") for text in arguments.rate)}
    kind_rates: dict[str, dict[str, float]] = {}
    for text in arguments.kind_rate:
        kind, _, fault_and_rate = text.partition(":")
        fault, _, rate = fault_and_rate.partition("=")
        kind_rates.setdefault(kind, {})[fault] = float(rate)
    return FaultPlan(rates=rates, kind_rates=kind_rates, seed=arguments.seed)


async def _serve_until_interrupted(proxy: FaultProxy) -> None:
    async with proxy:
        print(proxy.connection_string, flush=True)
        try:
            await asyncio.Event().wait()
        finally:
            print(proxy.statistics().summary(), flush=True)


def main(argv: list[str] | None = None) -> None:
    """Put the proxy in front of an Azurite by hand; prints the connection string, and statistics on Ctrl-C."""
    parser = argparse.ArgumentParser(prog="python -m tests.fault.fault_proxy", description=main.__doc__)
    parser.add_argument("--upstream", required=True, help="Azurite's blob,queue,table ports, e.g. 10000,10001,10002")
    parser.add_argument("--upstream-host", default="127.0.0.1")
    parser.add_argument("--ports", default="0,0,0", help="the proxy's blob,queue,table ports (0: a free one)")
    parser.add_argument("--rate", action="append", default=[], metavar="FAULT=RATE", help="for every kind")
    parser.add_argument("--kind-rate", action="append", default=[], metavar="KIND:FAULT=RATE", help="for one kind")
    parser.add_argument("--seed", type=int, default=0)
    arguments = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    proxy = FaultProxy(
        _parse_ports(arguments.upstream),
        _parse_plan(arguments),
        upstream_host=arguments.upstream_host,
        ports=_parse_ports(arguments.ports),
    )
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve_until_interrupted(proxy))


if __name__ == "__main__":
    main()
