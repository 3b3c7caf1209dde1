"""The `func durable`-named management subcommands, run in-process against Azurite (no worker)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from durable_azure.azure_storage import InstanceRecord, StorageAccount, TaskHub
from durable_azure.cli import build_parser, main
from durable_azure.client import DurableOrchestrationClient
from durable_azure.history import OrchestrationStatus
from durable_azure.status import OrchestrationRuntimeStatus
from tests.conftest import unique_hub_name


@pytest.fixture
def app_dir(tmp_path: Path, connection_string: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An app folder whose host.json names a fresh task hub on the test Azurite."""
    hub_name = unique_hub_name("Cli")
    host = {"version": "2.0", "extensions": {"durableTask": {"hubName": hub_name}}}
    (tmp_path / "host.json").write_text(json.dumps(host))
    monkeypatch.setenv("AzureWebJobsStorage", connection_string)
    yield tmp_path
    assert main(["delete-task-hub", "--app-dir", str(tmp_path)]) == 0


def hub_call(app_dir: Path, connection_string: str, operation) -> object:
    """Run `operation(client, hub)` on the app's task hub, outside the command line."""
    hub_name = json.loads((app_dir / "host.json").read_text())["extensions"]["durableTask"]["hubName"]

    async def run() -> object:
        async with StorageAccount.from_connection_string(connection_string) as account:
            hub = TaskHub(account, hub_name)
            async with DurableOrchestrationClient(hub) as client:
                return await operation(client, hub)

    return asyncio.run(run())


def run_json(capsys: pytest.CaptureFixture[str], argv: list[str]) -> object:
    assert main(argv) == 0, capsys.readouterr().err
    return json.loads(capsys.readouterr().out)


def test_management_arguments_parse() -> None:
    parser = build_parser()
    listing = parser.parse_args(
        ["get-instances", "--created-after", "2024-01-01", "--runtime-status", "completed,Failed", "--top", "5"]
    )
    assert listing.created_after.isoformat() == "2024-01-01T00:00:00+00:00"
    assert listing.runtime_status == [OrchestrationRuntimeStatus.Completed, OrchestrationRuntimeStatus.Failed]
    assert listing.top == 5
    assert parser.parse_args(["restart", "--id", "x", "--same-id"]).same_id
    assert parser.parse_args(["terminate", "--id", "x", "--reason", "why"]).reason == "why"


@pytest.mark.parametrize(
    "argv",
    [
        ["get-instances", "--runtime-status", "Sleeping"],
        ["get-instances", "--created-after", "yesterday"],
        ["raise-event", "--id", "x"],
        ["terminate"],
    ],
)
def test_bad_management_arguments_exit_2(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        build_parser().parse_args(argv)
    assert caught.value.code == 2


def test_get_instances_pages_with_top_and_continuation_token(
    app_dir: Path, connection_string: str, capsys: pytest.CaptureFixture[str]
) -> None:
    async def start_three(client: DurableOrchestrationClient, hub: TaskHub) -> None:
        for number in range(3):
            await client.start_new("hello", f"cli-{number}", number)

    hub_call(app_dir, connection_string, start_three)
    first = run_json(capsys, ["get-instances", "--top", "2", "--app-dir", str(app_dir)])
    assert [instance["instanceId"] for instance in first["instances"]] == ["cli-0", "cli-1"]
    token = first["continuationToken"]
    rest = run_json(capsys, ["get-instances", "--top", "2", "--continuation-token", token, "--app-dir", str(app_dir)])
    assert [instance["instanceId"] for instance in rest["instances"]] == ["cli-2"]
    assert rest["continuationToken"] is None
    none = run_json(capsys, ["get-instances", "--runtime-status", "Completed", "--app-dir", str(app_dir)])
    assert none["instances"] == []


def test_raise_event_suspend_resume_and_terminate_reach_the_instance_queue(
    app_dir: Path, connection_string: str, capsys: pytest.CaptureFixture[str]
) -> None:
    hub_call(app_dir, connection_string, lambda client, hub: client.start_new("approval", "cli-approval"))
    common = ["--id", "cli-approval", "--app-dir", str(app_dir)]
    assert main(["raise-event", "--event-name", "Approval", "--event-data", '{"ok": true}', *common]) == 0
    assert main(["suspend", "--reason", "pause", *common]) == 0
    assert main(["resume", *common]) == 0
    assert main(["terminate", "--reason", "done", *common]) == 0

    async def queued_events(client: DurableOrchestrationClient, hub: TaskHub) -> list[tuple[str, object]]:
        messages = await hub.control_queue_for("cli-approval").receive(32, 30)
        return [(type(m.data.event).__name__, getattr(m.data.event, "input", None)) for m in messages]

    events = hub_call(app_dir, connection_string, queued_events)
    assert [name for name, _ in events] == [
        "ExecutionStarted",
        "EventRaised",
        "ExecutionSuspended",
        "ExecutionResumed",
        "ExecutionTerminated",
    ]
    assert json.loads(events[1][1]) == {"ok": True}
    assert json.loads(events[4][1]) == "done"


def test_refusals_print_one_error_line(
    app_dir: Path, connection_string: str, capsys: pytest.CaptureFixture[str]
) -> None:
    hub_call(app_dir, connection_string, lambda client, hub: client.start_new("approval", "cli-busy"))
    assert main(["terminate", "--id", "nobody", "--app-dir", str(app_dir)]) == 1
    assert "no instance with id 'nobody'" in capsys.readouterr().err
    assert main(["rewind", "--id", "cli-busy", "--app-dir", str(app_dir)]) == 1
    assert "it is Pending, not Failed" in capsys.readouterr().err
    assert main(["purge-history", "--id", "cli-busy", "--app-dir", str(app_dir)]) == 1
    assert "cannot purge instance 'cli-busy': it is Pending" in capsys.readouterr().err


def test_purge_history_and_restart_of_finished_instances(
    app_dir: Path, connection_string: str, capsys: pytest.CaptureFixture[str]
) -> None:
    async def seed_finished(client: DurableOrchestrationClient, hub: TaskHub) -> None:
        await client.get_status("warm-up")  # creates the task hub
        for instance_id in ("old-1", "old-2", "old-3"):
            record = InstanceRecord(
                instance_id=instance_id, name="hello", runtime_status=OrchestrationStatus.Completed, input='"again"'
            )
            await hub.instances.create(record, etag=None)

    hub_call(app_dir, connection_string, seed_finished)
    restarted = run_json(capsys, ["restart", "--id", "old-1", "--same-id", "--app-dir", str(app_dir)])
    assert restarted == {"id": "old-1"}
    single = run_json(capsys, ["purge-history", "--id", "old-2", "--app-dir", str(app_dir)])
    assert single == {"instancesDeleted": 1}
    by_status = run_json(capsys, ["purge-history", "--runtime-status", "Completed", "--app-dir", str(app_dir)])
    assert by_status == {"instancesDeleted": 1}

    async def remaining(client: DurableOrchestrationClient, hub: TaskHub) -> list[tuple[str, str]]:
        return [(s.instance_id, s.runtime_status.value) for s in await client.get_status_all()]

    assert hub_call(app_dir, connection_string, remaining) == [("old-1", "Pending")]


def test_delete_task_hub_removes_the_hub(
    app_dir: Path, connection_string: str, capsys: pytest.CaptureFixture[str]
) -> None:
    hub_call(app_dir, connection_string, lambda client, hub: client.start_new("hello", "doomed"))
    assert hub_call(app_dir, connection_string, lambda client, hub: hub.exists())
    assert main(["delete-task-hub", "--app-dir", str(app_dir)]) == 0

    async def exists_without_recreating(client: DurableOrchestrationClient, hub: TaskHub) -> bool:
        return await hub.exists()

    assert not hub_call(app_dir, connection_string, exists_without_recreating)


def test_repair_prints_what_a_stuck_instance_was_missing_and_sends_it(
    app_dir: Path, connection_string: str, capsys: pytest.CaptureFixture[str]
) -> None:
    async def lose_the_start(client: DurableOrchestrationClient, hub: TaskHub) -> object:
        instance_id = await client.start_new("hello_sequence", "stuck-1")
        await asyncio.gather(*(queue.clear() for queue in hub.control_queues))  # storage lost the start message
        return instance_id

    hub_call(app_dir, connection_string, lose_the_start)
    dry = run_json(capsys, ["repair", "--app-dir", str(app_dir), "--id", "stuck-1", "--after", "0", "--dry-run"])
    assert dry == {"wouldRepair": [{"id": "stuck-1", "missing": ["its start"]}]}
    assert hub_call(app_dir, connection_string, lambda client, hub: _queued(hub)) == 0
    swept = run_json(capsys, ["repair", "--app-dir", str(app_dir), "--after", "0"])
    assert swept == {"repaired": [{"id": "stuck-1", "missing": ["its start"]}]}
    assert hub_call(app_dir, connection_string, lambda client, hub: _queued(hub)) == 1
    assert run_json(capsys, ["repair", "--app-dir", str(app_dir)]) == {"repaired": []}  # within repairAfter: not lost


async def _queued(hub: TaskHub) -> int:
    counts = await asyncio.gather(*(queue.approximate_message_count() for queue in hub.control_queues))
    return sum(counts)
