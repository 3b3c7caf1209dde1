"""The local RPC listener: the management API on loopback, without keys, where the official client calls.

The Durable extension opens this endpoint for out-of-process apps (its LocalHttpListener) and puts its URL
in every client binding string as `rpcBaseUrl`; azure.durable_functions' DurableOrchestrationClient sends
every call there (`{rpcBaseUrl}orchestrators/...`, `{rpcBaseUrl}instances/...`), never to the public
webhooks. As in the extension:

* it listens on 127.0.0.1 only, so nothing off the machine can reach it, and asks for no key (the public
  management API keeps asking for one); unlike the extension's, it refuses browser requests (an `Origin`
  header or a non-loopback `Host`), so a web page cannot drive it;
* it serves the management API's own handlers and routes (management_api.py) under `/durabletask/`;
* its port is 17071, or, when that is taken (a second host on the machine), a random free one in
  30000-31000, then any free one;
* it is on unless host.json sets `extensions.durableTask.localRpcEndpointEnabled` to false; then binding
  strings carry `rpcBaseUrl: null` and the official client refuses its calls, as it does on the original.

It is bound before anything else starts, so its URL is known when the first binding string is built.
"""

from __future__ import annotations

import contextlib
import logging
import random
import socket
from collections.abc import AsyncIterator

from aiohttp import web
from aiohttp.typedefs import Handler

from durable_azure.errors import ConfigurationError
from durable_azure.functions.management_api import ManagementServices, management_app
from durable_azure.functions.urls import RPC_PATH

logger = logging.getLogger(__name__)

RPC_HOST = "127.0.0.1"
DEFAULT_RPC_PORT = 17071
FALLBACK_PORTS = range(30000, 31001)
_FALLBACK_TRIES = 20
_DRAIN_SECONDS = 10.0
_MAX_BODY_BYTES = 100 * 1024 * 1024
_LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1"})


def bind_rpc_socket(port: int = DEFAULT_RPC_PORT) -> socket.socket:
    """A listening loopback socket on `port`, else on a random free port in 30000-31000, else any free one."""
    for candidate in [port, *random.sample(FALLBACK_PORTS, _FALLBACK_TRIES)]:
        try:
            return socket.create_server((RPC_HOST, candidate))
        except OSError as error:
            logger.debug("rpc.port_busy port=%d reason=%s", candidate, error.strerror or error)
    try:
        return socket.create_server((RPC_HOST, 0))
    except OSError as error:
        raise ConfigurationError(
            f"cannot open the local RPC endpoint on {RPC_HOST} ({error.strerror or error}); set "
            "extensions.durableTask.localRpcEndpointEnabled to false in host.json to run without it"
        ) from error


def rpc_base_url(listener: socket.socket) -> str:
    """`http://127.0.0.1:{port}/durabletask/`, with the trailing slash the official client appends paths to."""
    return f"http://{RPC_HOST}:{listener.getsockname()[1]}{RPC_PATH}/"


def rpc_app(services: ManagementServices) -> web.Application:
    """The management API under RPC_PATH, as the RPC listener sees it (no key, SDK-encoded bodies)."""
    app = web.Application(client_max_size=_MAX_BODY_BYTES, middlewares=[_refuse_browsers])
    app.add_subapp(RPC_PATH, management_app(services.for_rpc()))
    return app


@web.middleware
async def _refuse_browsers(request: web.Request, handler: Handler) -> web.StreamResponse:
    """A keyless endpoint on loopback is reachable from any web page the developer opens: a page may POST to
    it (a "simple" request needs no CORS preflight) or reach it under its own host name (DNS rebinding).
    Browsers mark both: an `Origin` header, a `Host` that is not loopback. The official client sends neither,
    so such requests are refused (403) here; the extension's listener accepts them."""
    host = (request.host or "").rsplit(":", 1)[0].strip("[]").lower()
    if request.headers.get("Origin") is not None or host not in _LOOPBACK_NAMES:
        return web.json_response(
            {"Message": "the local RPC endpoint takes no requests from web pages (Origin or non-loopback Host)"},
            status=403,
        )
    return await handler(request)


@contextlib.asynccontextmanager
async def serving_rpc(listener: socket.socket, services: ManagementServices) -> AsyncIterator[str]:
    """Serve the RPC API on `listener` (bound by `bind_rpc_socket`); yields its base URL. Requests in
    progress finish when the block exits, then the socket is closed."""
    runner = web.AppRunner(rpc_app(services), handle_signals=False, access_log=None)
    await runner.setup()
    try:
        await web.SockSite(runner, listener, shutdown_timeout=_DRAIN_SECONDS).start()
        url = rpc_base_url(listener)
        logger.info("rpc.listening url=%s", url)
        yield url
    finally:
        await runner.cleanup()


@contextlib.asynccontextmanager
async def serving_rpc_if(rpc_socket: socket.socket | None, services: ManagementServices) -> AsyncIterator[None]:
    """`serving_rpc` when the endpoint is on; nothing when it is off (`rpc_socket` None)."""
    if rpc_socket is None:
        yield
        return
    async with serving_rpc(rpc_socket, services):
        yield


__all__ = [
    "DEFAULT_RPC_PORT",
    "RPC_HOST",
    "bind_rpc_socket",
    "rpc_app",
    "rpc_base_url",
    "serving_rpc",
    "serving_rpc_if",
]
