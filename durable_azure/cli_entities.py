"""The entity subcommands of `durable-azure`: signal-entity, read-entity, list-entities.

They call the client as the instance commands do (cli_support.with_client) and print JSON: read-entity the
state itself, list-entities one page as `{"entities": [...], "continuationToken": ...}` like get-instances.
An entity that does not exist, a bad key or bad JSON input is one line on stderr and exit code 1.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

from durable_azure.cli_support import PROGRAM, parse_json_option, print_json, utc_datetime, with_client
from durable_azure.errors import ConfigurationError


def add_entity_commands(commands: Any, app_options: argparse.ArgumentParser) -> None:
    entity = argparse.ArgumentParser(add_help=False)
    entity.add_argument("--name", required=True, help="entity name (the entity function's name)")
    entity.add_argument("--key", required=True, help="entity key")
    signal = commands.add_parser(
        "signal-entity", parents=[app_options, entity], help="send an operation to an entity (one-way)"
    )
    signal.add_argument("--operation", required=True, help="operation name")
    signal.add_argument("--input", help="the operation's input as inline JSON, or @path to a JSON file")
    signal.add_argument("--at", type=utc_datetime, help="deliver at this ISO date/time (UTC unless it says otherwise)")
    commands.add_parser("read-entity", parents=[app_options, entity], help="print an entity's state as JSON")
    listing = commands.add_parser("list-entities", parents=[app_options], help="list entities, one page")
    listing.add_argument("--name", help="only entities of this name (default: all)")
    listing.add_argument("--fetch-state", action="store_true", help="include each entity's state")
    listing.add_argument("--top", type=int, default=10, help="page size, 1-1000 (default: 10)")
    listing.add_argument("--continuation-token", help="the token the previous page printed")


def _entity_id(arguments: argparse.Namespace, *, for_signal: bool = False) -> Any:
    """The EntityId of --name and --key; the client's checks become one-line errors."""
    from durable_azure.entities import EntityId, check_entity_key

    try:
        entity = EntityId(arguments.name, arguments.key)
        if for_signal:
            check_entity_key(entity.key)
    except ValueError as error:
        raise ConfigurationError(str(error)) from None
    return entity


def _signal_entity(arguments: argparse.Namespace) -> int:
    entity = _entity_id(arguments, for_signal=True)
    operation_input = parse_json_option(arguments.input)

    async def signal(client: Any) -> int:
        await client.signal_entity(entity, arguments.operation, operation_input, signal_time=arguments.at)
        return 0

    return with_client(arguments, signal)


def _read_entity(arguments: argparse.Namespace) -> int:
    entity = _entity_id(arguments)

    async def read(client: Any) -> int:
        response = await client.read_entity_state(entity)
        if not response.entity_exists:
            print(f"{PROGRAM}: no entity {arguments.name!r} with key {arguments.key!r}", file=sys.stderr)
            return 1
        print_json(response.entity_state)
        return 0

    return with_client(arguments, read)


def _list_entities(arguments: argparse.Namespace) -> int:
    if not 1 <= arguments.top <= 1000:
        raise ConfigurationError(f"--top must be 1-1000, not {arguments.top}")

    async def list_page(client: Any) -> int:
        page = await client.list_entities(
            entity_name=arguments.name,
            fetch_state=arguments.fetch_state,
            page_size=arguments.top,
            continuation_token=arguments.continuation_token,
        )
        entities = [entity.to_json() for entity in page.entities]
        print_json({"entities": entities, "continuationToken": page.continuation_token})
        return 0

    return with_client(arguments, list_page)


ENTITY_COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "signal-entity": _signal_entity,
    "read-entity": _read_entity,
    "list-entities": _list_entities,
}
