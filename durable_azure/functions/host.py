"""`durable-azure start`: the local Functions host. HTTP triggers, the management API and the worker, one process.

Start-up, in the order a user's mistakes are cheapest to report: settings files, the app's index (import
errors), the listening ports (the site's, then the local RPC endpoint's, rpc_listener.py), development
storage (our Azurite when nothing listens), the storage account (task hub created; unreachable storage
named), keys, the worker, then the RPC endpoint and the site. Each resource's start is paired with its stop
in `host_services`, so a failure at any step releases what was already opened, and Ctrl-C (SIGINT) or
SIGTERM stops the site first (in-flight requests finish), then the worker (in-flight work
finishes or is handed back, leases released), then storage and Azurite. Configuration is frozen at start-up.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from durable_azure.azurite import Azurite
from durable_azure.errors import ConfigurationError
from durable_azure.functions import indexing
from durable_azure.functions.bound_activities import registry_with_bindings
from durable_azure.functions.environment import AppEnvironment, load_app_environment, local_storage
from durable_azure.functions.host_storage import HostStorage, open_host_storage
from durable_azure.functions.http_triggers import (
    TRIGGERS,
    HttpTriggers,
    handle_http_trigger,
    keys_checked,
    route_path,
    route_table,
)
from durable_azure.functions.keys import host_id, load_or_create_host_keys
from durable_azure.functions.management_api import ManagementServices, management_app
from durable_azure.functions.rpc_listener import bind_rpc_socket, rpc_base_url, serving_rpc_if
from durable_azure.functions.triggers import Listener, run_listeners
from durable_azure.functions.urls import WEBHOOK_PATH, ManagementUrls
from durable_azure.settings import load_http_route_prefix
from durable_azure.worker import Registry, Worker

logger = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 7071
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
REQUEST_DRAIN_SECONDS = 10.0
RPC_OFF_LINE = "Local RPC endpoint: off (host.json localRpcEndpointEnabled is false)"
KEYS_OFF_LINE = (
    "HTTP functions: keys not checked, as with `func start` (loopback only); --enable-auth checks them. "
    "The management API still needs its key."
)


@dataclass(frozen=True, slots=True, kw_only=True)
class HostOptions:
    app_dir: Path
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    run_worker: bool = True
    enable_auth: bool = False
    """Check function and admin keys on HTTP functions also on loopback (`func start --enableAuth`)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class HostServices:
    """What the site serves with, all started; `host_services` stops them."""

    storage: HostStorage
    triggers: HttpTriggers
    management: ManagementServices
    listeners: list[tuple[indexing.TriggeredFunction, Listener]]


def run_host(options: HostOptions) -> None:
    """Run until SIGINT/SIGTERM. Raises ConfigurationError (one clear line) for every start-up mistake."""
    environment = load_app_environment(options.app_dir)
    route_prefix = load_http_route_prefix(environment.app_dir)
    index = indexing.index_app(environment.app_dir)
    listener = bind_listener(options.host, options.port)
    rpc_socket = bind_rpc_socket() if environment.settings.local_rpc_endpoint_enabled else None
    try:
        with local_storage(environment):
            asyncio.run(_serve(options, environment, index, route_prefix, listener, rpc_socket))
    finally:
        listener.close()
        if rpc_socket is not None:
            rpc_socket.close()


def bind_listener(host: str, port: int) -> socket.socket:
    """Bind the port before anything else starts, so "port in use" is the first and only line a user sees."""
    try:
        return socket.create_server((host, port))
    except (OSError, OverflowError) as error:
        raise _port_error(host, port, error) from error


def _port_error(host: str, port: int, error: OSError | OverflowError) -> ConfigurationError:
    reason = getattr(error, "strerror", None) or str(error)
    return ConfigurationError(
        f"cannot listen on {host}:{port} ({reason}): another host may be running; stop it or pass --port"
    )


async def _serve(
    options: HostOptions,
    environment: AppEnvironment,
    index: indexing.AppIndex,
    route_prefix: str,
    listener: socket.socket,
    rpc_socket: socket.socket | None,
) -> None:
    stop = stop_on_signals()
    base_url = f"http://{_display_host(options.host)}:{listener.getsockname()[1]}"
    rpc_url = rpc_base_url(rpc_socket) if rpc_socket is not None else None
    async with (
        host_services(
            environment,
            index,
            base_url,
            route_prefix,
            run_worker=options.run_worker,
            rpc_url=rpc_url,
            check_keys=keys_checked(options.host, enable_auth=options.enable_auth),
        ) as services,
        serving_rpc_if(rpc_socket, services.management),
    ):
        runner = web.AppRunner(build_web_app(services), handle_signals=False, access_log=None)
        await runner.setup()
        try:
            await web.SockSite(runner, listener, shutdown_timeout=REQUEST_DRAIN_SECONDS).start()
            _print_banner(services, index.http_functions, base_url, rpc_url)
            await stop.wait()
            logger.info("host.stopping")
        finally:
            await runner.cleanup()
    logger.info("host.stopped")


@contextlib.asynccontextmanager
async def host_services(
    environment: AppEnvironment,
    index: indexing.AppIndex,
    base_url: str,
    route_prefix: str,
    *,
    run_worker: bool,
    rpc_url: str | None = None,
    check_keys: bool = True,
) -> AsyncIterator[HostServices]:
    """Storage, keys and (unless `run_worker` is false) the worker, each stopped in reverse order.

    `rpc_url` is the local RPC endpoint's base URL, handed out in binding strings (None: it is off)."""
    async with open_host_storage(environment) as storage:
        loaded = await load_or_create_host_keys(storage.account, host_id(environment.app_dir))
        if loaded.is_new:
            print(f"Created host keys in {loaded.location} (show them with `durable-azure keys`)", flush=True)
        urls = ManagementUrls(
            base_url=base_url,
            task_hub=environment.settings.hub_name,
            system_key=loaded.keys.system_keys.get("durabletask_extension"),
            rpc_base_url=rpc_url,
        )
        services = invocation_services(storage, urls)
        triggers = HttpTriggers(
            routes=route_table(index.http_functions),
            keys=loaded.keys,
            services=services,
            route_prefix=route_prefix,
            check_keys=check_keys,
        )
        management = ManagementServices(
            client_for=storage.client_for,
            urls=urls,
            keys=loaded.keys,
            orchestrator_names=index.orchestrator_names,
            entity_names=frozenset(index.registry.entities),
            unmodified_app=index.unmodified,
        )
        registry = registry_with_bindings(index, services)
        async with (
            _worker(storage, registry, enabled=run_worker),
            run_listeners(index.triggered, services) as listeners,
        ):
            yield HostServices(storage=storage, triggers=triggers, management=management, listeners=listeners)


def invocation_services(storage: HostStorage, urls: ManagementUrls) -> indexing.InvocationServices:
    """What every invocation of the app gets: its client, other hubs' clients, storage accounts by connection."""
    return indexing.InvocationServices(
        client=storage.client.with_management(urls),
        client_for=storage.client_for,
        management=urls,
        account_for=storage.account_for,
        host_id=host_id(storage.environment.app_dir),
    )


@contextlib.asynccontextmanager
async def _worker(storage: HostStorage, registry: Registry, *, enabled: bool) -> AsyncIterator[None]:
    if not enabled:
        yield
        return
    worker = Worker(storage.hub, registry, storage.settings)
    await worker.start()
    try:
        yield
    finally:
        logger.info("worker.stopping id=%s", worker.worker_id)
        await worker.stop()


def build_web_app(services: HostServices) -> web.Application:
    """Management API under WEBHOOK_PATH first, then every path under the route prefix to the HTTP triggers."""
    app = web.Application(client_max_size=100 * 1024 * 1024)
    app[TRIGGERS] = services.triggers
    app.add_subapp(WEBHOOK_PATH, management_app(services.management))
    app.router.add_route("*", route_path(services.triggers.route_prefix), handle_http_trigger)
    return app


def _print_banner(
    services: HostServices, functions: list[indexing.HttpFunction], base_url: str, rpc_url: str | None
) -> None:
    """What `func start` prints: each HTTP function with its methods and URL, each other trigger with its
    schedule or source; then the management API, the local RPC endpoint and where the host listens."""
    route_prefix, listeners = services.triggers.route_prefix, services.listeners
    prefix = f"/{route_prefix}" if route_prefix else ""
    lines = ["", "Functions:", ""]
    for function in functions:
        methods = ",".join(function.methods) or "GET,POST,PUT,DELETE,PATCH,HEAD,OPTIONS"
        lines.append(f"        {function.name}: [{methods}] {base_url}{prefix}/{function.route}")
    for triggered, listener in listeners:
        lines.append(f"        {triggered.name}: {listener.describe()}")
    rpc_line = f"Local RPC endpoint (loopback, no key): {rpc_url}" if rpc_url else RPC_OFF_LINE
    lines += ["", f"Management API: {base_url}{WEBHOOK_PATH}", rpc_line]
    if not services.triggers.check_keys and any(f.auth_level.lower() != "anonymous" for f in functions):
        lines.append(KEYS_OFF_LINE)
    lines.append(f"Host listening on {base_url} (Ctrl-C to stop)")
    print("\n".join(lines), flush=True)


def _display_host(host: str) -> str:
    return "127.0.0.1" if host in ("0.0.0.0", "", "::") else host


def stop_on_signals() -> asyncio.Event:
    """Set on the first SIGINT/SIGTERM (graceful stop). A second one exits at once, for a function that hangs:
    nothing committed is lost (a queue message reappears, a receipt's or partition's lease runs out)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()

    def on_signal() -> None:
        if stop.is_set():
            print("durable-azure: stopping now, without waiting for functions in progress", file=sys.stderr, flush=True)
            Azurite.stop_all_started()
            os._exit(130)
        stop.set()

    for stop_signal in STOP_SIGNALS:
        loop.add_signal_handler(stop_signal, on_signal)
    return stop


__all__ = [
    "DEFAULT_HOST",
    "DEFAULT_PORT",
    "HostOptions",
    "HostServices",
    "bind_listener",
    "host_services",
    "invocation_services",
    "run_host",
]
