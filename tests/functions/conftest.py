"""A host subprocess (`durable-azure start`) per test module, on the session's Azurite; its hub is deleted after."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.functions.host_process import HostProcess, delete_hub, running_host


@pytest.fixture(scope="module")
def host(connection_string: str) -> Iterator[HostProcess]:
    """With --enable-auth: the tests check keys as a host reachable from elsewhere checks them."""
    with running_host(connection_string, extra=["--enable-auth"]) as process:
        yield process
    asyncio.run(delete_hub(connection_string, process.hub_name))


_APPS = Path(__file__).resolve().parent
_SETTINGS_READ_AT_CALL = {"TIMER_APP_SCHEDULE", "OTHER_HUB"}
"""Settings tests leave unset on purpose (a schedule is checked at indexing; a client's hub at its call)."""
_BINDING_SETTINGS = sorted(
    {
        name
        for path in [*_APPS.glob("*/function_app.py"), *_APPS.glob("*/*/function.json")]
        for name in re.findall(r"%([A-Za-z_0-9]+)%", path.read_text())
    }
    - _SETTINGS_READ_AT_CALL
)


@pytest.fixture(autouse=True)
def binding_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """The test apps' `%Setting%` names exist before an app is indexed, as app settings do under the host (which
    checks them at start-up); each test then points the ones it uses at fresh queues, containers or tables."""
    for name in _BINDING_SETTINGS:
        monkeypatch.setenv(name, "unused" + re.sub(r"[^a-z0-9]", "", name.lower()))
