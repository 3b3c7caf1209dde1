"""The extension's entity routes of the management API (HttpApiHandler's `entities/{entityName?}/{entityKey?}`).

    GET    entities/ | entities/{name}            list one page (query lastOperationTimeFrom, lastOperationTimeTo,
                                                   fetchState, top; x-ms-continuation-token both ways): 200
    GET    entities/{name}/{key}                  the state as JSON: 200; 404 when the entity does not exist
    POST   entities/{name}/{key}?op={operation}   signal: 202 (no body: no input; application/json: the parsed
                                                   body; any other content type: the body as a string)
    DELETE entities/{name}/{key}                  signal the operation `delete`: 202

As in the extension: a missing `op` signals the operation "" (the entity function sees an empty operation
name); a signal to a name that is not one of the app's entity functions, or with a key holding `/ \\ ? #` or
a control character, is a 400 naming the problem, and nothing is sent; GET does not check the name (an
unknown entity is a 404). Key `$` is the extension's empty key. Entity ids here never have an empty key, so
a GET of `$` is a 404 and a signal to it a 400 (the extension signals the literal key `$`, an entity its own
GET can then never read). Other methods get 404, as everywhere in this API.

Served under /runtime/webhooks/durabletask (keys required) and on the local RPC listener (keyless, loopback,
SDK-encoded bodies), by the management API's own guard (management_api.py).
"""

from __future__ import annotations

from aiohttp import web

from durable_azure.entities import EntityId, check_entity_key
from durable_azure.functions.http_errors import BadRequestError, error_response
from durable_azure.functions.management_payloads import EMPTY_ENTITY_KEY, QueryParameters, entity_operation_input
from durable_azure.functions.management_services import (
    CONTINUATION_HEADER,
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    NO_CONTINUATION,
    SERVICES,
    is_own_hub,
    json_response,
    request_client,
)

DELETE_OPERATION = "delete"
"""What HTTP DELETE signals; the entity function handles it as any other operation."""


def add_entity_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/entities{slash:/?}", list_entities, allow_head=False)
    router.add_get("/entities/{entity_name}{slash:/?}", list_entities, allow_head=False)
    for path in ("/entities{slash:/?}", "/entities/{entity_name}{slash:/?}"):
        router.add_post(path, signal_without_key)
        router.add_delete(path, signal_without_key)
    # `.+`: a key holding an escaped `/` (%2F) reaches the handler, which refuses it by name.
    key_path = "/entities/{entity_name}/{entity_key:.+}"
    router.add_get(key_path, read_entity, allow_head=False)
    router.add_post(key_path, signal_entity)
    router.add_delete(key_path, signal_entity)


def _entity_key(request: web.Request) -> str:
    """The key from the path: a trailing `/` dropped (the extension trims the path), `$` as the empty key."""
    key = request.match_info["entity_key"].rstrip("/")
    return "" if key == EMPTY_ENTITY_KEY else key


async def read_entity(request: web.Request) -> web.Response:
    name, key = request.match_info["entity_name"], _entity_key(request)
    if key == "":
        return error_response(404, f"No entity '{name}' with the empty key ($) found: entity keys cannot be empty.")
    entity = EntityId(name, key)
    client, _ = await request_client(request)
    response = await client.read_entity_state(entity)
    if not response.entity_exists:
        return error_response(404, f"No entity '{name}' with key '{key}' found.")
    return json_response(response.entity_state, status=200)


async def signal_entity(request: web.Request) -> web.Response:
    """POST: the operation `op` (202); DELETE: the operation `delete`. Checked before anything is sent."""
    name, key = request.match_info["entity_name"], _entity_key(request)
    if key == "":
        raise BadRequestError(f"Entity keys cannot be empty: signal entities/{name}/{{key}} with a key.")
    entity = EntityId(name, key)
    check_entity_key(key)
    client, _ = await request_client(request)
    services = request.app[SERVICES]
    if is_own_hub(request, client) and name.lower() not in services.entity_names:
        raise BadRequestError(
            f"The function '{name}' doesn't exist, is disabled, or is not an entity function. "
            f"Additional info: the app's entity functions are: {', '.join(sorted(services.entity_names)) or 'none'}."
        )
    requested = QueryParameters(request.query).text("op") or ""
    operation = DELETE_OPERATION if request.method == "DELETE" else requested
    operation_input = entity_operation_input(
        await request.read(), request.content_type, unwraps_sdk_json=services.unwraps_sdk_entity_json
    )
    await client.signal_entity(entity, operation, operation_input)
    return web.Response(status=202)


async def signal_without_key(request: web.Request) -> web.Response:
    raise BadRequestError(
        f"An entity name and key are required: {request.method} entities/{{name}}/{{key}} "
        "(use $ for the empty key of a GET)."
    )


async def list_entities(request: web.Request) -> web.Response:
    """One page of the app's entities (of one name, or all); x-ms-continuation-token "null" on the last page.

    A page may hold fewer than `top` entities (deleted ones are left out) and still have a token."""
    query = QueryParameters(request.query)
    token = request.headers.get(CONTINUATION_HEADER)
    client, _ = await request_client(request)
    page = await client.list_entities(
        entity_name=request.match_info.get("entity_name"),
        last_operation_from=query.datetime("lastOperationTimeFrom"),
        last_operation_to=query.datetime("lastOperationTimeTo"),
        fetch_state=query.boolean("fetchState", False),
        page_size=query.integer("top", minimum=1, maximum=MAX_PAGE_SIZE) or DEFAULT_PAGE_SIZE,
        continuation_token=None if token in (None, "", NO_CONTINUATION) else token,
    )
    body = [entity.to_json() for entity in page.entities]
    headers = {CONTINUATION_HEADER: page.continuation_token or NO_CONTINUATION}
    return json_response(body, status=200, headers=headers)
