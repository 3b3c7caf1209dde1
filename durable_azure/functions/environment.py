"""What a local run needs from an app folder: app settings, host.json settings, the storage connection.

As under `func start`, local.settings.json `Values` become environment variables (a variable already set
wins), and the storage connection is the one `connectionName` names (AzureWebJobsStorage by default),
resolved as the Functions host resolves it: a connection string, or an identity-based section
(`AzureWebJobsStorage__accountName`, `__blobServiceUri`, `__credential`, ...). A setting that cannot be
used is an error naming it. Development storage (Azurite on 127.0.0.1:10000-10002) is used when the
connection string says `UseDevelopmentStorage=true`, or when no connection of any form is configured;
then, when nothing listens there, `local_storage` starts an Azurite with its data in `APP_DIR/.azurite`
and stops it afterwards.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from durable_azure.azure_storage.connection import StorageConnection, development_storage
from durable_azure.azure_storage.connection_sections import resolve_connection
from durable_azure.azurite import DEVELOPMENT_HOST, DEVELOPMENT_PORTS, Azurite
from durable_azure.settings import DurableTaskSettings, load_host_settings, load_local_settings

logger = logging.getLogger(__name__)

AZURITE_FOLDER = ".azurite"


@dataclass(frozen=True, slots=True, kw_only=True)
class AppEnvironment:
    """The resolved configuration of one app folder. `repr` never shows the connection's settings."""

    app_dir: Path
    settings: DurableTaskSettings
    connection: StorageConnection

    def __repr__(self) -> str:
        return f"AppEnvironment(app_dir={str(self.app_dir)!r}, hub_name={self.settings.hub_name!r})"

    @property
    def is_development_storage(self) -> bool:
        return self.connection.is_development_storage


def load_app_environment(app_dir: Path, environ: MutableMapping[str, str] | None = None) -> AppEnvironment:
    """Apply local.settings.json to `environ` (default os.environ), then read host.json and the connection.

    Raises ConfigurationError for unreadable or invalid settings files, and for a connection setting that
    cannot be used (naming the setting, never its value).
    """
    environ = os.environ if environ is None else environ
    app_dir = Path(app_dir).resolve()
    for name, value in load_local_settings(app_dir).items():
        environ.setdefault(name, value)
    settings = load_host_settings(app_dir, environ)
    connection = resolve_connection(settings.connection_name, environ)
    if connection is None:
        connection = development_storage(f"development storage (no {settings.connection_name} setting of any form)")
    return AppEnvironment(app_dir=app_dir, settings=settings, connection=connection)


@contextmanager
def local_storage(environment: AppEnvironment) -> Iterator[Azurite | None]:
    """Make development storage reachable for the duration of the block.

    Yields the Azurite we started, or None when the app uses real storage or an emulator already listens.
    If only some of the three ports are taken, Azurite.start raises ConfigurationError naming the port.
    """
    if not environment.is_development_storage or all(_is_listening(port) for port in DEVELOPMENT_PORTS):
        yield None
        return
    blob_port, queue_port, table_port = DEVELOPMENT_PORTS
    azurite = Azurite(
        environment.app_dir / AZURITE_FOLDER,
        host=DEVELOPMENT_HOST,
        blob_port=blob_port,
        queue_port=queue_port,
        table_port=table_port,
    )
    logger.info("azurite.starting location=%s", azurite.location)
    azurite.start()
    try:
        yield azurite
    finally:
        azurite.stop()
        logger.info("azurite.stopped")


def _is_listening(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.5)
        return probe.connect_ex((DEVELOPMENT_HOST, port)) == 0
