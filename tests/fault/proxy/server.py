"""The fault proxy itself: three loopback listeners relaying to Azurite, injecting a FaultPlan's faults.

FaultProxy runs in the caller's event loop; FaultProxyThread runs one on its own loop in a thread, for
synchronous fixtures. What to inject is decided in plan.py; the bytes are read and written by http.py.

Standard library only, plus the connection-string builder of durable_azure.azurite: the proxy must not depend on
the storage code it is there to test.
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
import threading
import time
from functools import partial
from types import TracebackType

from durable_azure.azurite import development_connection_string
from tests.fault.proxy.http import (
    LINE_LIMIT,
    HttpMessage,
    MalformedMessageError,
    UpstreamLink,
    error_response,
    read_line,
    read_message,
    reset,
)
from tests.fault.proxy.plan import (
    OUTAGE,
    SERVICES,
    Fault,
    FaultPlan,
    ProxyStatistics,
    ServicePorts,
    StatisticsRecorder,
    classify,
)

logger = logging.getLogger(__name__)

_UPSTREAM_TIMEOUT_SECONDS = 120.0  # a hung Azurite must not pin a connection task forever


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
        self._statistics = StatisticsRecorder()
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
                server = await asyncio.start_server(accept, self.host, port, limit=LINE_LIMIT)
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
                reset(writer)  # here, not in the task: a task cancelled before its first step runs no code
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
            reset(writer)
            return
        task = asyncio.get_running_loop().create_task(self._serve(service, reader, writer))
        self._connections[task] = writer
        task.add_done_callback(lambda finished: self._connections.pop(finished, None))

    async def _serve(self, service: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """One client connection: one request at a time, answered (or faulted) before the next is read."""
        upstream = UpstreamLink(self.upstream_host, self.upstream.of(service))
        try:
            while not self._is_stopping:
                start_line = await read_line(reader, is_end_allowed=True)
                if not start_line:
                    break
                request = await read_message(reader, start_line, request_method=None)
                if not await self._answer(service, request, writer, upstream):
                    break
        except asyncio.CancelledError:
            reset(writer)
            raise
        except (ConnectionError, asyncio.IncompleteReadError, MalformedMessageError) as error:
            logger.debug("fault proxy: %s client connection ended: %r", service, error)
            reset(writer)
        except Exception:
            logger.exception("fault proxy: unexpected error on a %s connection", service)
            reset(writer)
        finally:
            upstream.close()
            writer.close()

    async def _answer(
        self, service: str, request: HttpMessage, client: asyncio.StreamWriter, upstream: UpstreamLink
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
            reset(client)
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
        reset(client)
        return False

    def _fault_response(self, service: str, fault: Fault) -> bytes:
        if fault is Fault.BUSY:
            retry_after = [("Retry-After", str(self.plan.retry_after_seconds))]
            message = "The server is currently unable to receive requests. Please retry your request."
            return error_response(service, "503 Service Unavailable", "ServerBusy", message, retry_after)
        message = "The operation could not be completed within the permitted time."
        return error_response(service, "500 Internal Server Error", "OperationTimedOut", message, [])


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
