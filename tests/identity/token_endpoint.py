"""A loopback managed-identity endpoint, as App Service runs one, for azure-identity's ManagedIdentityCredential.

With IDENTITY_ENDPOINT and IDENTITY_HEADER set (and no IDENTITY_SERVER_THUMBPRINT), azure-identity 1.27
asks App Service's endpoint (`_credentials/app_service.py`): GET `?api-version=2019-08-01&resource=...`
(`&client_id=...` for a user-assigned identity) with header `X-IDENTITY-HEADER`, and reads
`{"access_token", "expires_on" (epoch seconds, a string), "resource", "token_type"}`.

The token is an unsigned JWT that Azurite's `--oauth basic` accepts (reference §6): it checks lifetime,
issuer and audience, never the signature. Tests can shorten `lifetime` (what the client is told) to see
renewals, and set `failing` to make the endpoint answer 500. The JWT's own `exp` is a minute later than the
`expires_on` the client is told, so a token sent in its last moment is not refused on the way.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

IDENTITY_HEADER = "durable-azure-test-identity-header"
TENANT_ID = "00000000-0000-0000-0000-0000000000aa"
_EXP_GRACE_SECONDS = 60


@dataclass(frozen=True)
class TokenRequest:
    resource: str | None
    client_id: str | None
    api_version: str | None
    has_identity_header: bool


class TokenEndpoint:
    """The endpoint's state: what it was asked, and how it answers next."""

    def __init__(self) -> None:
        self.requests: list[TokenRequest] = []
        self.lifetime = 3600
        self.failing = False
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="token-endpoint", daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/msi/token"

    @property
    def environment(self) -> dict[str, str]:
        """What App Service sets for a process with a managed identity."""
        return {"IDENTITY_ENDPOINT": self.url, "IDENTITY_HEADER": IDENTITY_HEADER}

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
        self.lifetime, self.failing = 3600, False

    def answer(self, path: str, headers: Any) -> tuple[int, dict[str, Any]]:
        query = {key: values[-1] for key, values in parse_qs(urlsplit(path).query).items()}
        request = TokenRequest(
            resource=query.get("resource"),
            client_id=query.get("client_id"),
            api_version=query.get("api-version"),
            has_identity_header=headers.get("X-IDENTITY-HEADER") == IDENTITY_HEADER,
        )
        with self._lock:
            self.requests.append(request)
        if self.failing:
            return 500, {"error": "service_unavailable", "error_description": "the test endpoint is failing"}
        if not request.has_identity_header or request.resource is None:
            return 400, {"error": "invalid_request", "error_description": "missing X-IDENTITY-HEADER or resource"}
        expires_on = int(time.time()) + self.lifetime
        token = unsigned_jwt(request.resource, request.client_id, expires_on + _EXP_GRACE_SECONDS)
        return 200, {
            "access_token": token,
            "expires_on": str(expires_on),
            "resource": request.resource,
            "token_type": "Bearer",
            "client_id": request.client_id or "system-assigned",
        }


def unsigned_jwt(audience: str, client_id: str | None, expires: int) -> str:
    now = int(time.time())
    claims = {
        "aud": audience.rstrip("/"),
        "iss": f"https://sts.windows.net/{TENANT_ID}/",
        "iat": now - 5,
        "nbf": now - 5,
        "exp": expires,
        "appid": client_id or "system-assigned",
        "oid": "00000000-0000-0000-0000-0000000000bb",
        "tid": TENANT_ID,
    }
    parts = [{"alg": "none", "typ": "JWT"}, claims]
    encoded = [_base64url(json.dumps(part).encode()) for part in parts]
    return ".".join([*encoded, _base64url(b"not-signed")])


def _base64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _handler_for(endpoint: TokenEndpoint) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            status, body = endpoint.answer(self.path, self.headers)
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:  # quiet: the tests read `requests`
            return

    return Handler
