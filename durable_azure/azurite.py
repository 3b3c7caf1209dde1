"""Start and stop a local Azurite storage emulator, for the local host, the CLI and the tests.

Azurite always runs in disk mode (`--location`): in-memory mode freezes for tens
of seconds while it garbage-collects deleted queue messages (azurite-probe G1).
It listens on loopback only, on ports we choose, because other people's
Azurites may hold the default ports 10000-10002.

Standard library only: this module must not import `azure_storage/` or any SDK.
"""

from __future__ import annotations

import contextlib
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Any

from durable_azure.errors import ConfigurationError

DEVELOPMENT_ACCOUNT_NAME = "devstoreaccount1"
# The well-known development storage key, published in Microsoft's Azurite documentation.
DEVELOPMENT_ACCOUNT_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
DEVELOPMENT_HOST = "127.0.0.1"
DEVELOPMENT_PORTS = (10000, 10001, 10002)  # blob, queue, table: what `UseDevelopmentStorage=true` points at

_EXECUTABLE_RELATIVE_PATH = Path("node_modules") / ".bin" / "azurite"
_STOP_GRACE_SECONDS = 10.0
_LOG_TAIL_CHARACTERS = 2000


def is_development_storage(connection_string: str) -> bool:
    """True for `UseDevelopmentStorage=true` (any case, surrounding spaces and `;` allowed)."""
    for part in connection_string.split(";"):
        key, _, value = part.strip().partition("=")
        if key.strip().lower() == "usedevelopmentstorage" and value.strip().lower() == "true":
            return True
    return False


def development_endpoint(host: str, port: int, *, scheme: str = "http") -> str:
    """One service's devstoreaccount1 endpoint, path style as Azurite serves it."""
    return f"{scheme}://{host}:{port}/{DEVELOPMENT_ACCOUNT_NAME}"


def development_connection_string(
    host: str, blob_port: int, queue_port: int, table_port: int, *, scheme: str = "http"
) -> str:
    """The explicit devstoreaccount1 connection string for an Azurite on the given ports (https: OAuth mode)."""
    return (
        f"DefaultEndpointsProtocol={scheme};AccountName={DEVELOPMENT_ACCOUNT_NAME};"
        f"AccountKey={DEVELOPMENT_ACCOUNT_KEY};"
        f"BlobEndpoint={development_endpoint(host, blob_port, scheme=scheme)};"
        f"QueueEndpoint={development_endpoint(host, queue_port, scheme=scheme)};"
        f"TableEndpoint={development_endpoint(host, table_port, scheme=scheme)};"
    )


def find_executable() -> Path:
    """`node_modules/.bin/azurite`, looked up from the working directory and from this package upwards."""
    starts = [Path.cwd(), Path(__file__).resolve().parent]
    for start in starts:
        for folder in (start, *start.parents):
            candidate = folder / _EXECUTABLE_RELATIVE_PATH
            if candidate.is_file():
                return candidate
    raise ConfigurationError("Azurite is not installed: run `npm ci` in the project folder")


_started: set[Azurite] = set()
"""Servers started and not stopped yet (`Azurite.stop_all_started`)."""


class Azurite:
    """A local Azurite in disk mode, on loopback, for the CLI and the tests.

    With `cert` and `key` (PEM files; the certificate must name the host, e.g. `IP:127.0.0.1` in its
    subjectAltName) it serves HTTPS. `oauth="basic"` makes it accept bearer tokens too, which it only does
    over HTTPS; it then checks a token's lifetime, issuer and audience, not its signature. Shared Key and
    SAS keep working in either mode.
    """

    def __init__(
        self,
        location: Path,
        *,
        host: str = "127.0.0.1",
        blob_port: int = 0,
        queue_port: int = 0,
        table_port: int = 0,
        executable: Path | None = None,
        cert: Path | None = None,
        key: Path | None = None,
        oauth: str | None = None,
    ) -> None:
        if (cert is None) != (key is None):
            raise ConfigurationError("Azurite over HTTPS needs both a certificate and its key")
        if oauth is not None and cert is None:
            raise ConfigurationError("Azurite accepts OAuth tokens over HTTPS only: give it a certificate and key")
        self.location = Path(location)
        self.host = host
        self.cert, self.key, self.oauth = cert, key, oauth
        self.executable = executable if executable is not None else find_executable()
        self._requested_ports = (blob_port, queue_port, table_port)
        self.blob_port, self.queue_port, self.table_port = blob_port, queue_port, table_port
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def log_path(self) -> Path:
        return self.location / "azurite.log"

    @property
    def scheme(self) -> str:
        return "http" if self.cert is None else "https"

    @property
    def connection_string(self) -> str:
        """Explicit devstoreaccount1 string for this instance's ports (valid once started, or with fixed ports)."""
        return development_connection_string(
            self.host, self.blob_port, self.queue_port, self.table_port, scheme=self.scheme
        )

    @property
    def blob_endpoint(self) -> str:
        return development_endpoint(self.host, self.blob_port, scheme=self.scheme)

    @property
    def queue_endpoint(self) -> str:
        return development_endpoint(self.host, self.queue_port, scheme=self.scheme)

    @property
    def table_endpoint(self) -> str:
        return development_endpoint(self.host, self.table_port, scheme=self.scheme)

    @property
    def is_running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def start(self, timeout: float = 60.0) -> None:
        """Start the process and wait until all three ports accept connections.

        Fails when a port is already taken before we start (a stale Azurite would
        otherwise answer our readiness probe, probe G8), when the process exits,
        or when the ports do not open within `timeout` seconds.
        """
        if self.is_running:
            return
        self.location.mkdir(parents=True, exist_ok=True)
        self._choose_ports()
        for port in self._ports():
            if _is_listening(self.host, port):
                raise ConfigurationError(f"Azurite cannot start: {self.host}:{port} is already in use")
        with self.log_path.open("ab") as log:
            try:
                _started.add(self)
                self._process = subprocess.Popen(
                    self._command(),
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    start_new_session=True,
                )
            except OSError as error:
                raise ConfigurationError(f"Azurite could not be started from {self.executable}: {error}") from error
        self._wait_until_ready(timeout)

    def stop(self) -> None:
        """SIGTERM, wait up to 10 s for a graceful shutdown (it flushes its data), then SIGKILL. Idempotent."""
        _started.discard(self)
        process = self._process
        if process is None:
            return
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=_STOP_GRACE_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self._process = None

    @staticmethod
    def stop_all_started() -> None:
        """Stop every Azurite this process started and has not stopped: for an exit that skips clean-up."""
        for server in list(_started):
            server.stop()

    def kill(self) -> None:
        """SIGKILL: the fault tests' crash. Data written in the last ~5 s is lost (autosave interval)."""
        process = self._process
        if process is None:
            return
        if process.poll() is None:
            process.kill()
            process.wait()
        self._process = None

    def __enter__(self) -> Azurite:
        self.start()
        return self

    def __exit__(
        self, error_type: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"Azurite(location={str(self.location)!r}, ports={self._ports()}, running={self.is_running})"

    def _ports(self) -> tuple[int, int, int]:
        return (self.blob_port, self.queue_port, self.table_port)

    def _choose_ports(self) -> None:
        """Pick free ports for those requested as 0; a restart after kill() keeps the ports (and the data)."""
        if self.blob_port == 0:
            self.blob_port = _free_port(self.host)
        if self.queue_port == 0:
            self.queue_port = _free_port(self.host)
        if self.table_port == 0:
            self.table_port = _free_port(self.host)

    def _command(self) -> list[str]:
        return [*self._service_options(), *self._security_options()]

    def _security_options(self) -> list[str]:
        options = [] if self.cert is None else ["--cert", str(self.cert), "--key", str(self.key)]
        return options if self.oauth is None else [*options, "--oauth", self.oauth]

    def _service_options(self) -> list[str]:
        return [
            str(self.executable),
            "--location",
            str(self.location),
            "--skipApiVersionCheck",
            "--disableTelemetry",
            "--silent",
            "--blobHost",
            self.host,
            "--blobPort",
            str(self.blob_port),
            "--queueHost",
            self.host,
            "--queuePort",
            str(self.queue_port),
            "--tableHost",
            self.host,
            "--tablePort",
            str(self.table_port),
        ]

    def _wait_until_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            if self._process is not None and self._process.poll() is not None:
                code = self._process.returncode
                self._process = None
                raise ConfigurationError(f"Azurite exited with code {code} during start-up:\n{self._log_tail()}")
            if all(_is_listening(self.host, port) for port in self._ports()):
                return
            if time.monotonic() > deadline:
                self.kill()
                raise ConfigurationError(f"Azurite did not open its ports within {timeout} s:\n{self._log_tail()}")
            time.sleep(0.05)

    def _log_tail(self) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return text[-_LOG_TAIL_CHARACTERS:]


@contextlib.contextmanager
def temporary_azurite(prefix: str = "durable-azure-azurite-", **options: Any) -> Iterator[Azurite]:
    """A started Azurite whose data lives in a fresh folder, removed afterwards; `options` as for Azurite.

    The folder is on tmpfs when the machine has one: disk mode there is as fast as memory mode, without its
    garbage-collection freezes (azurite-probe G1).
    """
    shared_memory = Path("/dev/shm")
    location = Path(tempfile.mkdtemp(prefix=prefix, dir=shared_memory if shared_memory.is_dir() else None))
    try:
        with Azurite(location, **options) as server:
            yield server
    finally:
        shutil.rmtree(location, ignore_errors=True)


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def _is_listening(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.2)
        return probe.connect_ex((host, port)) == 0


__all__ = [
    "Azurite",
    "development_connection_string",
    "development_endpoint",
    "find_executable",
    "is_development_storage",
    "temporary_azurite",
]
