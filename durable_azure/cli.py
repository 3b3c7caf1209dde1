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
import logging
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from durable_azure.cli_entities import ENTITY_COMMANDS, add_entity_commands
from durable_azure.cli_support import PROGRAM, parse_json_option, print_json, utc_datetime, with_client
from durable_azure.errors import ConfigurationError, DurableAzureError

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
    start = commands.add_parser(
        "start", parents=[app_options], help="run the app as `func start` does: HTTP triggers, management API, worker"
    )
    start.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    start.add_argument("--port", type=_port, default=7071, help="port to listen on (default: 7071)")
    start.add_argument("--no-worker", action="store_true", help="serve HTTP only; run `durable-azure worker` apart")
    start.add_argument(
        "--enable-auth",
        action="store_true",
        help="check function/admin keys on HTTP functions also when listening on loopback (always checked elsewhere)",
    )
    keys = commands.add_parser("keys", parents=[app_options], help="print the host keys (created if missing)")
    keys.add_argument("--key", help="print only this key's value: master, a function key name or a system key name")
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
    _add_management_commands(commands, app_options)
    add_entity_commands(commands, app_options)
    return parser


def _add_management_commands(commands: Any, app_options: argparse.ArgumentParser) -> None:
    """The instance-management subcommands of `func durable`, same names and options."""
    filters = argparse.ArgumentParser(add_help=False)
    filters.add_argument("--created-after", type=utc_datetime, help="ISO date/time (UTC unless it says otherwise)")
    filters.add_argument("--created-before", type=utc_datetime, help="ISO date/time (UTC unless it says otherwise)")
    filters.add_argument(
        "--runtime-status", type=_runtime_statuses, help="comma-separated, e.g. Completed,Failed (default: any)"
    )
    listing = commands.add_parser("get-instances", parents=[app_options, filters], help="list instances, one page")
    listing.add_argument("--top", type=int, default=10, help="page size (default: 10)")
    listing.add_argument("--continuation-token", help="the token the previous page printed")
    listing.add_argument("--id-prefix", help="only ids starting with this")
    event = commands.add_parser("raise-event", parents=[app_options], help="send an event to an instance")
    event.add_argument("--id", required=True, help="instance id")
    event.add_argument("--event-name", required=True, help="event name")
    event.add_argument("--event-data", help="data as inline JSON, or @path to a JSON file")
    for name, text in [
        ("terminate", "stop an instance"),
        ("suspend", "pause an instance"),
        ("resume", "resume a suspended instance"),
        ("rewind", "retry the failed work of a Failed instance"),
    ]:
        command = commands.add_parser(name, parents=[app_options], help=text)
        command.add_argument("--id", required=True, help="instance id")
        command.add_argument("--reason", default=f"{name} from the {PROGRAM} command line", help="recorded reason")
    restart = commands.add_parser("restart", parents=[app_options], help="start an instance again, same input")
    restart.add_argument("--id", required=True, help="instance id")
    restart.add_argument("--same-id", action="store_true", help="reuse the id (the instance must have finished)")
    purge = commands.add_parser("purge-history", parents=[app_options, filters], help="delete finished instances")
    purge.add_argument("--id", help="purge this instance only (filters are then ignored)")
    commands.add_parser("delete-task-hub", parents=[app_options], help="delete every queue, table and blob of the hub")
    repair = commands.add_parser(
        "repair", parents=[app_options], help="find instances stuck on lost messages and send those messages again"
    )
    repair.add_argument("--id", help="check this instance only (default: every Pending or Running instance)")
    repair.add_argument(
        "--after",
        type=float,
        help="seconds work may be in flight before it counts as lost (default: host.json repairAfter)",
    )
    repair.add_argument("--dry-run", action="store_true", help="print what is missing, send nothing")


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
    from durable_azure.functions.indexing import index_app
    from durable_azure.functions.worker_host import run_worker

    environment = load_app_environment(arguments.app_dir)
    index = index_app(environment.app_dir)
    with local_storage(environment):
        asyncio.run(run_worker(environment, index))
    return 0


def _start_host(arguments: argparse.Namespace) -> int:
    from durable_azure.functions.host import HostOptions, run_host

    options = HostOptions(
        app_dir=arguments.app_dir,
        host=arguments.host,
        port=arguments.port,
        run_worker=not arguments.no_worker,
        enable_auth=arguments.enable_auth,
    )
    run_host(options)
    return 0


def _keys(arguments: argparse.Namespace) -> int:
    from durable_azure.functions.environment import load_app_environment, local_storage
    from durable_azure.functions.keys import keys_document, load_app_keys

    environment = load_app_environment(arguments.app_dir)
    with local_storage(environment):
        loaded = asyncio.run(load_app_keys(environment.connection, environment.app_dir, environment.settings))
    document = keys_document(loaded)
    if arguments.key is None:
        print_json(document)
        return 0
    named = {"master": document["masterKey"], **document["functionKeys"], **document["systemKeys"]}
    if arguments.key not in named:
        raise ConfigurationError(f"no key named {arguments.key!r} (known: {', '.join(named)})")
    print(named[arguments.key])
    return 0


def _start_new(arguments: argparse.Namespace) -> int:
    client_input = parse_json_option(arguments.input)

    async def start(client: Any) -> int:
        instance_id = await client.start_new(arguments.function_name, arguments.id, client_input)
        print_json({"id": instance_id, "name": arguments.function_name})
        return 0

    return with_client(arguments, start)


def _get_runtime_status(arguments: argparse.Namespace) -> int:
    async def show(client: Any) -> int:
        status = await client.get_status(arguments.id, show_history=arguments.show_history)
        if status is None:
            print(f"{PROGRAM}: no orchestration instance with id {arguments.id!r}", file=sys.stderr)
            return 1
        print_json(status.to_json())
        return 0

    return with_client(arguments, show)


def _wait(arguments: argparse.Namespace) -> int:
    async def wait(client: Any) -> int:
        print_json((await client.wait_for_completion(arguments.id, arguments.timeout)).to_json())
        return 0

    return with_client(arguments, wait)


def _get_instances(arguments: argparse.Namespace) -> int:
    async def list_page(client: Any) -> int:
        page = await client.list_instances(
            instance_id_prefix=arguments.id_prefix,
            page_size=arguments.top,
            continuation_token=arguments.continuation_token,
            created_time_from=arguments.created_after,
            created_time_to=arguments.created_before,
            runtime_status=arguments.runtime_status,
        )
        instances = [status.to_json() for status in page.instances]
        print_json({"instances": instances, "continuationToken": page.continuation_token})
        return 0

    return with_client(arguments, list_page)


def _raise_event(arguments: argparse.Namespace) -> int:
    data = parse_json_option(arguments.event_data, "--event-data")
    return with_client(arguments, lambda client: _done(client.raise_event(arguments.id, arguments.event_name, data)))


def _instance_request(method_name: str) -> Any:
    """terminate / suspend / resume / rewind: one call with the id and the reason."""

    def run(arguments: argparse.Namespace) -> int:
        return with_client(
            arguments, lambda client: _done(getattr(client, method_name)(arguments.id, arguments.reason))
        )

    return run


def _restart(arguments: argparse.Namespace) -> int:
    async def restart(client: Any) -> int:
        instance_id = await client.restart(arguments.id, restart_with_new_instance_id=not arguments.same_id)
        print_json({"id": instance_id})
        return 0

    return with_client(arguments, restart)


def _purge_history(arguments: argparse.Namespace) -> int:
    async def purge(client: Any) -> int:
        if arguments.id:
            result = await client.purge_instance_history(arguments.id)
        else:
            result = await client.purge_instance_history_by(
                arguments.created_after, arguments.created_before, arguments.runtime_status
            )
        print_json({"instancesDeleted": result.instances_deleted})
        return 0

    return with_client(arguments, purge)


def _delete_task_hub(arguments: argparse.Namespace) -> int:
    async def delete(client: Any) -> int:
        await client.delete_task_hub()
        print_json({"deleted": client.task_hub_name})
        return 0

    return with_client(arguments, delete)


def _repair(arguments: argparse.Namespace) -> int:
    """The repair sweep of the workers (worker/repair.py), on demand, over the whole hub or one instance."""
    from datetime import timedelta

    from durable_azure.azure_storage import StorageAccount, TaskHub
    from durable_azure.functions.environment import load_app_environment, local_storage
    from durable_azure.worker.repair import StuckInstanceRepair

    environment = load_app_environment(arguments.app_dir)
    settings = environment.settings
    after = timedelta(seconds=arguments.after) if arguments.after is not None else settings.stuck_instance_after

    async def run() -> int:
        async with StorageAccount.for_settings(environment.connection, settings) as account:
            hub = TaskHub(account, settings.hub_name, partition_count=settings.partition_count)
            repair = StuckInstanceRepair(hub, after=after, clock=lambda: datetime.now(UTC))
            if arguments.id:
                found = [await repair.check(arguments.id)]
                if found[0].missing and not arguments.dry_run:
                    await repair.send(found[0])
            else:
                found = await repair.sweep(send=not arguments.dry_run)
        repaired = [{"id": item.instance_id, "missing": item.missing} for item in found if item.missing]
        print_json({"repaired" if not arguments.dry_run else "wouldRepair": repaired})
        return 0

    with local_storage(environment):
        return asyncio.run(run())


async def _done(request: Any) -> int:
    await request
    return 0


def _port(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"not a port number (1-65535): {text!r}")
    return int(text)


def _runtime_statuses(text: str) -> list[Any]:
    from durable_azure.status import OrchestrationRuntimeStatus

    by_name = {status.value.casefold(): status for status in OrchestrationRuntimeStatus}
    statuses = []
    for name in filter(None, (part.strip() for part in text.split(","))):
        if name.casefold() not in by_name:
            raise argparse.ArgumentTypeError(f"unknown runtime status {name!r} (known: {', '.join(by_name)})")
        statuses.append(by_name[name.casefold()])
    return statuses


_COMMANDS = {
    "worker": _run_worker,
    "start": _start_host,
    "keys": _keys,
    "start-new": _start_new,
    "get-runtime-status": _get_runtime_status,
    "wait": _wait,
    "get-instances": _get_instances,
    "raise-event": _raise_event,
    "terminate": _instance_request("terminate"),
    "suspend": _instance_request("suspend"),
    "resume": _instance_request("resume"),
    "rewind": _instance_request("rewind"),
    "restart": _restart,
    "purge-history": _purge_history,
    "delete-task-hub": _delete_task_hub,
    "repair": _repair,
    **ENTITY_COMMANDS,
}
