"""A host subprocess (`durable-azure start`) per test module, on the session's Azurite; its hub is deleted after."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from tests.functions.host_process import HostProcess, delete_hub, running_host


@pytest.fixture(scope="module")
def host(connection_string: str) -> Iterator[HostProcess]:
    with running_host(connection_string) as process:
        yield process
    asyncio.run(delete_hub(connection_string, process.hub_name))
