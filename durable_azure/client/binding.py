"""The durableClient binding as a JSON string, for function.json apps that build their own client.

A v1 app receives its client binding as a string and writes `client = df.DurableOrchestrationClient(starter)`,
as with azure.durable_functions. The string has the extension's shape (taskHubName, creationUrls,
managementUrls with the `INSTANCEID` placeholder, baseUrl, requiredQueryStringParameters, rpcBaseUrl; the
host builds those fields) plus a `durableAzureBindingId` that names a live entry here: the task hub and
management links of the invocation. The host registers the entry for the length of one invocation and
releases it afterwards, so our client built from the string shares the host's storage connections, while
the official SDK's client, which ignores the id, sends its calls to `rpcBaseUrl`.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from durable_azure.azure_storage import TaskHub
from durable_azure.client.http_payloads import ManagementLinks
from durable_azure.client.instance_control import OtherHubs
from durable_azure.errors import ConfigurationError

BINDING_ID_FIELD = "durableAzureBindingId"


@dataclass(frozen=True, slots=True)
class BoundHub:
    """What a binding string names: the invocation's task hub, its management links and its way to other hubs.

    Not a client: a client built from the string is a new object on these, so this module needs no client.
    """

    hub: TaskHub
    management: ManagementLinks | None
    other_hubs: OtherHubs | None
    hub_ready: bool


_live_bindings: dict[str, BoundHub] = {}


def register(bound: BoundHub, fields: Mapping[str, Any]) -> tuple[str, str]:
    """Make `bound` reachable from a string; returns (binding id for `release`, the binding JSON).

    `fields` are the extension-shaped ones (the host's `ManagementUrls.client_binding_fields`); the id is added.
    """
    binding_id = uuid.uuid4().hex
    _live_bindings[binding_id] = bound
    document: dict[str, Any] = {"taskHubName": bound.hub.hub_name, **fields, BINDING_ID_FIELD: binding_id}
    return binding_id, json.dumps(document)


def release(binding_id: str) -> None:
    _live_bindings.pop(binding_id, None)


def resolve(binding_json: str) -> BoundHub:
    """The live task hub a binding string names. Raises ConfigurationError for a string that names none."""
    try:
        document = json.loads(binding_json)
        binding_id = document[BINDING_ID_FIELD]
    except (ValueError, TypeError, KeyError) as error:
        raise ConfigurationError(
            "DurableOrchestrationClient(str) takes the value of a durableClient binding; got something else"
        ) from error
    binding = _live_bindings.get(binding_id)
    if binding is None:
        raise ConfigurationError(
            "this durableClient binding belongs to an invocation that has finished; use it only during that call"
        )
    return binding
