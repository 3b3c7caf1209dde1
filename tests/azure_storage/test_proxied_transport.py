"""Accounts behind an HTTP proxy: `auto` turns the lean transport off with one log line, and work goes through it.

The proxy is a real forward proxy on loopback (absolute-form requests, as
clients send to an `HTTP_PROXY`), forwarding to the session's Azurite and
counting what passed. Storage faults are not its business (see tests/fault/).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import pytest
import pytest_asyncio

from durable_azure.azure_storage import MessageData, StorageAccount, TaskHub, TransportChoice
from durable_azure.errors import ConfigurationError
from durable_azure.history import EventRaised, OrchestrationInstance
from tests.conftest import unique_hub_name
from tests.fault.proxy.http import HttpMessage, UpstreamLink, read_line, read_message


class ForwardProxy:
    """Forwards absolute-form HTTP requests to their origin; `targets` counts the requests per host:port."""

    def __init__(self) -> None:
        self.targets: dict[str, int] = {}
        self._server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        links: dict[str, UpstreamLink] = {}
        try:
            while start_line := await read_line(reader, is_end_allowed=True):
                request = await read_message(reader, start_line, request_method=None)
                method, target = request.method_and_target()
                parts = urlsplit(target)
                origin = parts.netloc
                self.targets[origin] = self.targets.get(origin, 0) + 1
                path = parts.path + (f"?{parts.query}" if parts.query else "")
                forwarded = HttpMessage(f"{method} {path} HTTP/1.1", request.headers, request.body)
                link = links.setdefault(origin, UpstreamLink(parts.hostname or "", parts.port or 80))
                writer.write((await link.exchange(forwarded)).encode())
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            for link in links.values():
                link.close()
            writer.close()


@pytest_asyncio.fixture
async def forward_proxy() -> AsyncIterator[ForwardProxy]:
    proxy = ForwardProxy()
    await proxy.start()
    yield proxy
    await proxy.stop()


async def test_auto_uses_the_sdk_transport_through_the_proxy(
    forward_proxy: ForwardProxy, connection_string: str, monkeypatch: pytest.MonkeyPatch, caplog
) -> None:
    monkeypatch.setenv("HTTP_PROXY", forward_proxy.url)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    with caplog.at_level(logging.INFO, logger="durable_azure.azure_storage.transport.choice"):
        account = StorageAccount.from_connection_string(connection_string)
    assert account.transport_name == "sdk"
    assert [record.getMessage() for record in caplog.records if "storage.transport" in record.getMessage()] == [
        f"storage.transport account=devstoreaccount1 transport=sdk reason=a proxy is configured for "
        f"{urlsplit(account.connection.blob_endpoint).netloc}"
    ]
    async with account:
        hub = TaskHub(account, unique_hub_name("Proxied"), partition_count=1)
        await hub.create_if_not_exists()
        instance = OrchestrationInstance(instance_id="proxied", execution_id="e")
        await hub.work_item_queue.send(MessageData(event=EventRaised(name="n", input='"x"'), instance=instance))
        [message] = await hub.work_item_queue.receive(1, 30)
        assert message.data is not None and message.data.event.input == '"x"'
        await hub.delete()
    services = {urlsplit(endpoint).netloc for endpoint in (account.connection.queue_endpoint, account.tables.endpoint)}
    assert services <= set(forward_proxy.targets)  # every service went through the proxy


async def test_no_proxy_keeps_the_lean_transport_and_lean_with_a_proxy_is_refused(
    connection_string: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    async with StorageAccount.from_connection_string(connection_string) as account:
        assert account.transport_name == "lean"
    monkeypatch.delenv("NO_PROXY")
    with pytest.raises(
        ConfigurationError, match=r"storageTransport is 'lean', but a proxy is configured for 127\.0\.0\.1"
    ):
        StorageAccount.from_connection_string(connection_string, transport=TransportChoice.LEAN)
