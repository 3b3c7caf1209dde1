"""A host subprocess serving tests/compat/official_client_app, and the official client's shared HTTP session.

azure.durable_functions keeps one aiohttp session for the whole process; each test here runs in its own event
loop, so the session is closed at the end of every test (in that test's loop) and the next test gets a new one.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from azure.durable_functions.models.utils import http_utils

from tests.functions.host_process import HostProcess, delete_hub, running_host

APP_DIR = Path(__file__).resolve().parent / "official_client_app"


@pytest.fixture(scope="module")
def host(connection_string: str) -> Iterator[HostProcess]:
    with running_host(connection_string, app_dir=APP_DIR) as process:
        yield process
    asyncio.run(delete_hub(connection_string, process.hub_name))


@pytest.fixture(scope="module")
def binding(host: HostProcess) -> str:
    """The durableClient binding string the host hands a function.json function (`starter: str`)."""
    reply = host.request("GET", "/api/Binding")
    assert reply.status == 200, reply.body
    return reply.body.decode()


@pytest.fixture(scope="module")
def binding_fields(binding: str) -> dict[str, Any]:
    fields: dict[str, Any] = json.loads(binding)
    return fields


@pytest_asyncio.fixture(autouse=True)
async def official_client_session() -> AsyncIterator[None]:
    yield
    await http_utils._close_session()
