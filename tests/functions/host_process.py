"""`durable-azure start` as a subprocess on the session's Azurite, and a tiny HTTP client to drive it.

The host serves tests/functions/host_app (an app written for azure.durable_functions with only its import
changed) on a free port, with a task hub of its own. `stop()` sends SIGINT, as Ctrl-C does.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from durable_azure.client import DurableOrchestrationClient
from tests.conftest import unique_hub_name

APP_DIR = Path(__file__).resolve().parent / "host_app"
PROJECT_DIR = Path(__file__).resolve().parents[2]
READY_LINE = "Host listening on"
WORKER_READY_LINE = "host.started"
START_SECONDS = 90.0
WAIT_SECONDS = 60.0
WEBHOOK = "/runtime/webhooks/durabletask"


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class HostProcess:
    process: subprocess.Popen[str]
    port: int
    hub_name: str
    output: list[str] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def request(
        self,
        method: str,
        path: str,
        *,
        query: dict[str, str] | None = None,
        body: bytes | str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        """One request; `path` may be a full URL from a check-status payload."""
        if path.startswith("http"):
            parts = urlsplit(path)
            path = parts.path + (f"?{parts.query}" if parts.query else "")
        if query:
            path += ("&" if "?" in path else "?") + urlencode(query)
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=WAIT_SECONDS)
        try:
            data = body.encode() if isinstance(body, str) else body
            connection.request(method, path, body=data, headers=headers or {})
            response = connection.getresponse()
            return Reply(response.status, {k.lower(): v for k, v in response.getheaders()}, response.read())
        finally:
            connection.close()

    def text_output(self) -> str:
        return "".join(self.output)

    def stop(self) -> int:
        """SIGINT (Ctrl-C) and wait; returns the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        return self.process.wait(timeout=WAIT_SECONDS)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def host_environment(connection_string: str, hub_name: str) -> dict[str, str]:
    return {**os.environ, "AzureWebJobsStorage": connection_string, "TEST_HUB_NAME": hub_name}


def run_cli(arguments: list[str], environment: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "durable_azure", *arguments],
        env=environment,
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=START_SECONDS,
    )


@contextmanager
def running_host(connection_string: str, *, app_dir: Path = APP_DIR, extra: list[str] = ()) -> Iterator[HostProcess]:
    """Start the host, wait for its ready line, yield it; stop it afterwards whatever happened."""
    hub_name = unique_hub_name("Host")
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "durable_azure", "start", "--app-dir", str(app_dir), "--port", str(port), *extra],
        env=host_environment(connection_string, hub_name),
        cwd=PROJECT_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    host = HostProcess(process=process, port=port, hub_name=hub_name)
    ready = threading.Event()
    threading.Thread(target=_pump, args=(process, host.output, ready), daemon=True).start()
    try:
        if not ready.wait(START_SECONDS):
            raise AssertionError(f"host did not start:\n{host.text_output()}")
        yield host
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=WAIT_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()


@contextmanager
def running_worker(connection_string: str, hub_name: str, app_dir: Path) -> Iterator[list[str]]:
    """`durable-azure worker` on `app_dir` until the block ends (SIGINT); yields its output lines so far."""
    process = subprocess.Popen(
        [sys.executable, "-m", "durable_azure", "worker", "--app-dir", str(app_dir)],
        env=host_environment(connection_string, hub_name),
        cwd=PROJECT_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output: list[str] = []
    ready = threading.Event()
    threading.Thread(target=_pump, args=(process, output, ready, WORKER_READY_LINE), daemon=True).start()
    try:
        assert ready.wait(START_SECONDS), "".join(output)
        yield output
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=WAIT_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()


def _pump(
    process: subprocess.Popen[str], output: list[str], ready: threading.Event, ready_line: str = READY_LINE
) -> None:
    assert process.stdout is not None
    for line in process.stdout:
        output.append(line)
        if ready_line in line:
            ready.set()
    ready.set()


def eventually(probe: Callable[[], Any], accept: Callable[[Any], bool], what: str) -> Any:
    """Poll until `accept(probe())`; fails naming `what` only after a generous timeout."""
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        value = probe()
        if accept(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"still waiting for {what}; last value: {value!r}")
        time.sleep(0.1)


async def delete_hub(connection_string: str, hub_name: str) -> None:
    """Remove a test host's task hub, so queues do not pile up in the session's Azurite."""
    async with DurableOrchestrationClient.from_connection_string(connection_string, hub_name) as client:
        await client.delete_task_hub()
