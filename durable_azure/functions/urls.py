"""The HTTP management URLs of one instance: the check-status payload the extension hands out.

`ManagementUrls.payload` builds exactly the extension's templates (HttpApiHandler's client-response links):
with `P = {base}/runtime/webhooks/durabletask/instances/{escaped id}` and
`Q = taskHub={hub}&connection={connection}[&code={system key}]`,

    statusQueryGetUri, purgeHistoryDeleteUri     P?Q
    sendEventPostUri                             P/raiseEvent/{eventName}?Q
    terminatePostUri, suspendPostUri,
    resumePostUri, rewindPostUri                 P/<operation>?reason={text}&Q
    restartPostUri                               P/restart?Q

`{eventName}` and `{text}` stay literal placeholders for the caller to fill in, as in the original. The
host and the client helpers both build payloads here, so the two can never disagree. Imports nothing
from the project: the host and the client layer both use it.

`client_binding_fields` is the durableClient binding string the extension hands out-of-process workers
(BindingHelper.DurableOrchestrationClientToString with HttpApiHandler's links): `creationUrls`, the
management URLs of the placeholder instance `INSTANCEID`, `baseUrl`, `requiredQueryStringParameters`
(`code=<system key>`) and `rpcBaseUrl`, the local RPC listener the official Python client sends every
call to (None when host.json turns it off).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

WEBHOOK_PATH = "/runtime/webhooks/durabletask"
RPC_PATH = "/durabletask"
"""Where the local RPC listener serves the management API; its base URL ends in `/durabletask/`."""
DEFAULT_CONNECTION_NAME = "Storage"
"""The name the extension gives the AzureWebJobsStorage connection in its URLs."""
INSTANCE_ID_PLACEHOLDER = "INSTANCEID"
"""The instance id in a binding string's `managementUrls`; clients replace it with a real id."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ManagementUrls:
    """Where an app's management API lives, and the query string every management URL carries."""

    base_url: str
    """Scheme, host and port of the Functions host, e.g. "http://127.0.0.1:7071" (no trailing slash)."""
    task_hub: str
    connection_name: str = DEFAULT_CONNECTION_NAME
    system_key: str | None = None
    """Appended as `&code=...`; None when the management API needs no key."""
    rpc_base_url: str | None = None
    """The local RPC listener, e.g. "http://127.0.0.1:17071/durabletask/"; None when it is off."""

    def webhook_url(self, *, origin: str | None = None) -> str:
        """`{origin or base_url}/runtime/webhooks/durabletask`."""
        return _origin(origin or self.base_url) + WEBHOOK_PATH

    def instance_url(self, instance_id: str, *, origin: str | None = None) -> str:
        """The status URL of one instance without its query string."""
        return f"{self.webhook_url(origin=origin)}/instances/{quote(instance_id, safe='')}"

    def query(self) -> str:
        """`taskHub=...&connection=...[&code=...]`, the parameters every management URL carries."""
        parts = [f"taskHub={quote(self.task_hub, safe='')}", f"connection={quote(self.connection_name, safe='')}"]
        if self.system_key:
            parts.append(f"code={quote(self.system_key, safe='')}")
        return "&".join(parts)

    def required_query(self) -> str:
        """`code=<system key>` (the extension's requiredQueryStringParameters), "" when no key is needed."""
        return f"code={quote(self.system_key, safe='')}" if self.system_key else ""

    def creation_urls(self) -> dict[str, str]:
        """The extension's HttpCreationPayload, `{functionName}`, `[/{instanceId}]` and the timeouts as literal
        placeholders."""
        prefix = f"{self.webhook_url()}/orchestrators/{{functionName}}[/{{instanceId}}]"
        query = self.required_query()
        return {
            "createNewInstancePostUri": f"{prefix}?{query}",
            "createAndWaitOnNewInstancePostUri": (
                f"{prefix}?timeout={{timeoutInSeconds}}&pollingInterval={{intervalInSeconds}}&{query}"
            ),
        }

    def client_binding_fields(self, *, connection_attribute: str | None = None) -> dict[str, Any]:
        """The binding string's fields as the extension shapes them. `connectionName` is the binding's own
        `connectionName` (null when it names none, as from the extension)."""
        return {
            "taskHubName": self.task_hub,
            "creationUrls": self.creation_urls(),
            "managementUrls": self.payload(INSTANCE_ID_PLACEHOLDER),
            "baseUrl": self.webhook_url(),
            "requiredQueryStringParameters": self.required_query(),
            "rpcBaseUrl": self.rpc_base_url,
            "httpBaseUrl": self.webhook_url(),
            "connectionName": connection_attribute,
        }

    def payload(self, instance_id: str, *, origin: str | None = None) -> dict[str, str]:
        """The check-status payload: `id` and the eight management URLs of `instance_id`.

        `origin` ("scheme://host[:port]", or any URL whose scheme and host are taken) replaces `base_url`,
        so links point where the triggering request came from, as the extension does.
        """
        instance = self.instance_url(instance_id, origin=origin)
        query = self.query()
        return {
            "id": instance_id,
            "statusQueryGetUri": f"{instance}?{query}",
            "sendEventPostUri": f"{instance}/raiseEvent/{{eventName}}?{query}",
            "terminatePostUri": f"{instance}/terminate?reason={{text}}&{query}",
            "purgeHistoryDeleteUri": f"{instance}?{query}",
            "restartPostUri": f"{instance}/restart?{query}",
            "suspendPostUri": f"{instance}/suspend?reason={{text}}&{query}",
            "resumePostUri": f"{instance}/resume?reason={{text}}&{query}",
            "rewindPostUri": f"{instance}/rewind?reason={{text}}&{query}",
        }


def _origin(url: str) -> str:
    """Scheme and network location of `url`; a bare "scheme://host" comes back without a trailing slash."""
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        return url.rstrip("/")
    return f"{parts.scheme}://{parts.netloc}"
