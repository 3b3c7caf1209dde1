"""What every `durable-azure` subcommand shares: a client on the app's task hub, JSON options in, JSON out.

Apart from cli.py so the command modules (cli.py, cli_entities.py) use one copy. Modules above settings are
imported inside the functions, so `--help` stays fast.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from durable_azure import serialization
from durable_azure.errors import ConfigurationError

PROGRAM = "durable-azure"


def utc_datetime(text: str) -> datetime:
    """An argparse type: ISO date/time, UTC unless it says otherwise."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"not an ISO date/time: {text!r}") from error
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def with_client(arguments: argparse.Namespace, command: Callable[[Any], Awaitable[int]]) -> int:
    """Run `command(client)` against the app's task hub, with local storage made available first."""
    from durable_azure.client import DurableOrchestrationClient
    from durable_azure.functions.environment import load_app_environment, local_storage

    environment = load_app_environment(arguments.app_dir)

    async def run() -> int:
        client = DurableOrchestrationClient.from_connection(
            environment.connection,
            task_hub=environment.settings.hub_name,
            partition_count=environment.settings.partition_count,
            settings=environment.settings,
        )
        async with client:
            return await command(client)

    with local_storage(environment):
        return asyncio.run(run())


def parse_json_option(text: str | None, option: str = "--input") -> Any:
    """`--input` (or `--event-data`) as inline JSON or `@file`, as `func durable` takes them."""
    if text is None:
        return None
    source = option
    if text.startswith("@"):
        source = text[1:]
        try:
            text = Path(source).read_text(encoding="utf-8-sig")
        except OSError as error:
            raise ConfigurationError(f"cannot read {option} file {source}: {error.strerror or error}") from error
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise ConfigurationError(f"{source} is not valid JSON: {error.msg} (line {error.lineno})") from error


def print_json(value: Any) -> None:
    print(json.dumps(value, indent=2, default=_printable))


def _printable(value: Any) -> Any:
    """An app's custom object in its Durable Functions envelope (as stored); anything else (datetimes) as text."""
    try:
        return json.loads(serialization.dumps(value))
    except TypeError:
        return str(value)
