"""The lean HTTP client against a real local socket server: framing, keep-alive reuse, a server that hangs up.

Azurite always answers with Content-Length; Azure's front ends may use chunked
encoding or close the connection, so those framings are exercised here with a
tiny server speaking raw HTTP/1.1.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest

from durable_azure.azure_storage.transport.failures import TransportFailure
from durable_azure.azure_storage.transport.http_pool import HttpPool

Handler = Callable[[bytes], bytes]


@pytest.fixture
async def server() -> AsyncIterator[Callable[[Handler], asyncio.Future[str]]]:
    servers: list[asyncio.Server] = []

    async def start(handler: Handler, *, close_after_reply: bool = False) -> str:
        async def on_connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            connections.append(writer)
            try:
                while head := await reader.readuntil(b"\r\n\r\n"):
                    length = next(
                        (
                            int(line.split(b":")[1])
                            for line in head.split(b"\r\n")
                            if line.lower().startswith(b"content-length")
                        ),
                        0,
                    )
                    request = head + (await reader.readexactly(length) if length else b"")
                    writer.write(handler(request))
                    await writer.drain()
                    if close_after_reply:
                        writer.close()
                        return
            except (asyncio.IncompleteReadError, ConnectionError):
                writer.close()

        connections: list[asyncio.StreamWriter] = []
        listening = await asyncio.start_server(on_connection, "127.0.0.1", 0)
        servers.append(listening)
        start.connections = connections  # type: ignore[attr-defined]
        return f"http://127.0.0.1:{listening.sockets[0].getsockname()[1]}/account"

    yield start  # type: ignore[misc]
    for listening in servers:
        listening.close()


async def test_a_chunked_reply_is_read_whole(server) -> None:
    endpoint = await server(
        lambda request: b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
    )
    pool = HttpPool(endpoint)
    reply = await pool.request("GET", "/account/q", {}, b"", timeout=10)
    assert (reply.status, reply.body) == (200, b"hello world")
    await pool.close()


async def test_a_reply_framed_by_the_connection_closing_is_read_whole(server) -> None:
    endpoint = await server(
        lambda request: b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nall of it", close_after_reply=True
    )
    pool = HttpPool(endpoint)
    assert (await pool.request("GET", "/account/q", {}, b"", timeout=10)).body == b"all of it"
    assert (await pool.request("GET", "/account/q", {}, b"", timeout=10)).body == b"all of it"  # a fresh connection
    await pool.close()


async def test_keep_alive_reuses_one_connection_and_survives_the_server_hanging_up(server) -> None:
    def echo_length(request: bytes) -> bytes:
        body = request.partition(b"\r\n\r\n")[2]
        return b"HTTP/1.1 201 Created\r\nContent-Length: %d\r\nx-ms-popreceipt: r1\r\n\r\n%s" % (len(body), body)

    endpoint = await server(echo_length)
    pool = HttpPool(endpoint)
    first = await pool.request("POST", "/account/q/messages", {"x-ms-version": "1"}, b"<a/>", timeout=10)
    second = await pool.request("POST", "/account/q/messages", {}, b"<bb/>", timeout=10)
    assert (first.status, first.body, first.headers["x-ms-popreceipt"]) == (201, b"<a/>", "r1")
    assert second.body == b"<bb/>"
    assert len(server.connections) == 1
    server.connections[0].close()  # the server closes the idle keep-alive connection (Azurite does after 5 s)
    await asyncio.sleep(0.05)
    third = await pool.request("POST", "/account/q/messages", {}, b"<ccc/>", timeout=10)
    assert third.body == b"<ccc/>"
    assert len(server.connections) == 2
    await pool.close()


async def test_a_refused_connection_raises_transport_error() -> None:
    listening = await asyncio.start_server(lambda reader, writer: None, "127.0.0.1", 0)
    port = listening.sockets[0].getsockname()[1]
    listening.close()
    await listening.wait_closed()
    pool = HttpPool(f"http://127.0.0.1:{port}/account")
    with pytest.raises(TransportFailure, match="cannot connect") as raised:
        await pool.request("GET", "/account/q", {}, b"", timeout=10)
    assert not raised.value.is_sent  # never reached a server: safe to send again


def test_only_http_endpoints_are_accepted() -> None:
    with pytest.raises(ValueError, match="not an http"):
        HttpPool("ftp://example.com/account")
