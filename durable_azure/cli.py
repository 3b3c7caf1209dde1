"""The `durable-azure` command: parses arguments and calls the worker host or the client; no logic here.

Subcommands are named after `func durable ...` where one exists. Every subcommand reads the app folder
(`--app-dir`, default the current folder) the same way, and starts a local Azurite when the app uses
development storage and none is running. Errors we raise on purpose print one line and exit 1; anything
else is a bug and keeps its traceback.

Modules above settings are imported inside the commands, so `--help` works and stays fast even when the
storage layer cannot be imported.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from durable_azure.errors import ConfigurationError, DurableAzureError

PROGRAM = "durable-azure"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROGRAM, description="Durable Functions for Python on Azure Storage.")
    parser.add_argument("--log-level", choices=LOG_LEVELS, default="INFO", type=str.upper, help="default: INFO")
    app_options = argparse.ArgumentParser(add_help=False)
    app_options.add_argument(
        "--app-dir", type=Path, default=Path("."), help="folder with function_app.py and host.json (default: .)"
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("worker", parents=[app_options], help="run the orchestrations and activities of the app")
    start_new = commands.add_parser("start-new", parents=[app_options], help="start an orchestration instance")
    start_new.add_argument("--function-name", required=True, help="orchestrator name")
    start_new.add_argument("--id", help="instance id (default: a new random id)")
    start_new.add_argument("--input", help="input as inline JSON, or @path to a JSON file")
    status = commands.add_parser("get-runtime-status", parents=[app_options], help="print an instance's status")
    status.add_argument("--id", required=True, help="instance id")
    status.add_argument("--show-history", action="store_true", help="include the execution history")
    wait = commands.add_parser("wait", parents=[app_options], help="wait until an instance finishes, print it")
    wait.add_argument("--id", required=True, help="instance id")
    wait.add_argument("--timeout", type=float, default=60.0, help="seconds to wait (default: 60)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    arguments = build_parser().parse_args(argv)
    _configure_logging(arguments.log_level)
    try:
        return _COMMANDS[arguments.command](arguments)
    except DurableAzureError as error:
        print(f"{PROGRAM}: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _configure_logging(level: str) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    # The Azure SDKs log every HTTP request at INFO; only --log-level DEBUG shows them.
    logging.getLogger("azure").setLevel(level if level == "DEBUG" else "WARNING")


def _run_worker(arguments: argparse.Namespace) -> int:
    from durable_azure.functions.environment import load_app_environment, local_storage
    from durable_azure.functions.loader import load_function_app
    from durable_azure.functions.worker_host import run_worker

    environment = load_app_environment(arguments.app_dir)
    registry = load_function_app(environment.app_dir).build_registry()
    with local_storage(environment):
        asyncio.run(run_worker(environment, registry))
    return 0


def _start_new(arguments: argparse.Namespace) -> int:
    client_input = _parse_input(arguments.input)

    async def start(client: Any) -> int:
        instance_id = await client.start_new(arguments.function_name, arguments.id, client_input)
        _print_json({"id": instance_id, "name": arguments.function_name})
        return 0

    return _with_client(arguments, start)


def _get_runtime_status(arguments: argparse.Namespace) -> int:
    async def show(client: Any) -> int:
        status = await client.get_status(arguments.id, show_history=arguments.show_history)
        if status is None:
            print(f"{PROGRAM}: no orchestration instance with id {arguments.id!r}", file=sys.stderr)
            return 1
        _print_json(status.to_json())
        return 0

    return _with_client(arguments, show)


def _wait(arguments: argparse.Namespace) -> int:
    async def wait(client: Any) -> int:
        _print_json((await client.wait_for_completion(arguments.id, arguments.timeout)).to_json())
        return 0

    return _with_client(arguments, wait)


def _with_client(arguments: argparse.Namespace, command: Any) -> int:
    """Run `command(client)` against the app's task hub, with local storage made available first."""
    from durable_azure.client import DurableOrchestrationClient
    from durable_azure.functions.environment import load_app_environment, local_storage

    environment = load_app_environment(arguments.app_dir)

    async def run() -> int:
        client = DurableOrchestrationClient.from_connection_string(
            environment.connection_string,
            task_hub=environment.settings.hub_name,
            partition_count=environment.settings.partition_count,
        )
        async with client:
            return await command(client)

    with local_storage(environment):
        return asyncio.run(run())


def _parse_input(text: str | None) -> Any:
    """`--input` as inline JSON or `@file`, as `func durable start-new` takes it."""
    if text is None:
        return None
    source = "--input"
    if text.startswith("@"):
        source = text[1:]
        try:
            text = Path(source).read_text(encoding="utf-8-sig")
        except OSError as error:
            raise ConfigurationError(f"cannot read --input file {source}: {error.strerror or error}") from error
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise ConfigurationError(f"{source} is not valid JSON: {error.msg} (line {error.lineno})") from error


def _print_json(value: Any) -> None:
    print(json.dumps(value, indent=2, default=str))


_COMMANDS = {
    "worker": _run_worker,
    "start-new": _start_new,
    "get-runtime-status": _get_runtime_status,
    "wait": _wait,
}
