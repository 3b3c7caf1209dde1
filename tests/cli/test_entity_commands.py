"""signal-entity, read-entity and list-entities against a worker running the `counter` entity (tests/entities/apps.py).

The worker runs in the test's event loop; each command runs as `main(argv)` in a thread (it starts its own
loop), with an app folder whose host.json names the worker's task hub.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import pytest_asyncio

from durable_azure.azure_storage import TaskHub
from durable_azure.cli import build_parser, main
from durable_azure.worker import Worker
from tests.entities import apps
from tests.functions.host_process import WAIT_SECONDS
from tests.worker.conftest import TEST_SETTINGS


@pytest_asyncio.fixture
async def app_dir(
    task_hub: TaskHub, tmp_path: Path, connection_string: str, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Path]:
    """An app folder on the task hub a worker with the entity test app serves."""
    durable = {"hubName": task_hub.hub_name, "storageProvider": {"partitionCount": task_hub.partition_count}}
    (tmp_path / "host.json").write_text(json.dumps({"version": "2.0", "extensions": {"durableTask": durable}}))
    monkeypatch.setenv("AzureWebJobsStorage", connection_string)
    worker = Worker(task_hub, apps.registry(), TEST_SETTINGS)
    await worker.start()
    try:
        yield tmp_path
    finally:
        await worker.stop(timeout=5)


async def run(capsys: pytest.CaptureFixture[str], argv: list[str], app_dir: Path) -> tuple[int, str, str]:
    code = await asyncio.to_thread(main, [*argv, "--app-dir", str(app_dir)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


async def read_until(capsys: pytest.CaptureFixture[str], app_dir: Path, key: str, expected: object) -> None:
    """read-entity until it prints `expected`; fails only after a generous timeout."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT_SECONDS
    while True:
        code, out, err = await run(capsys, ["read-entity", "--name", "counter", "--key", key], app_dir)
        if code == 0 and json.loads(out) == expected:
            return
        if loop.time() > deadline:
            raise AssertionError(f"counter {key} never read {expected!r}; last: {code} {out!r} {err!r}")
        await asyncio.sleep(0.1)


def test_entity_arguments_parse() -> None:
    parser = build_parser()
    signal = parser.parse_args(
        ["signal-entity", "--name", "counter", "--key", "k", "--operation", "add", "--at", "2030-01-01T08:00"]
    )
    assert (signal.name, signal.key, signal.operation, signal.input) == ("counter", "k", "add", None)
    assert signal.at == datetime(2030, 1, 1, 8, tzinfo=UTC)
    listing = parser.parse_args(["list-entities", "--fetch-state"])
    assert (listing.name, listing.fetch_state, listing.top) == (None, True, 10)


@pytest.mark.parametrize(
    "argv",
    [
        ["signal-entity", "--name", "counter", "--key", "k"],
        ["signal-entity", "--name", "counter", "--key", "k", "--operation", "add", "--at", "tomorrow"],
        ["read-entity", "--name", "counter"],
    ],
)
def test_bad_entity_arguments_exit_2(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        build_parser().parse_args(argv)
    assert caught.value.code == 2


async def test_signal_then_read(app_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = await run(capsys, ["read-entity", "--name", "counter", "--key", "one"], app_dir)
    assert code == 1
    assert "no entity 'counter' with key 'one'" in err
    for amount in ("5", "3"):
        signal = ["signal-entity", "--name", "Counter", "--key", "one", "--operation", "add", "--input", amount]
        assert (await run(capsys, signal, app_dir))[0] == 0
    await read_until(capsys, app_dir, "one", 8)


async def test_input_from_a_file(app_dir: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / "amount.json").write_text("12")
    signal = ["signal-entity", "--name", "counter", "--key", "file", "--operation", "add", "--input"]
    assert (await run(capsys, [*signal, f"@{tmp_path / 'amount.json'}"], app_dir))[0] == 0
    await read_until(capsys, app_dir, "file", 12)


async def test_bad_input_and_bad_keys_are_one_line_errors(app_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    signal = ["signal-entity", "--name", "counter", "--operation", "add"]
    code, _, err = await run(capsys, [*signal, "--key", "bad", "--input", "{five"], app_dir)
    assert code == 1 and "--input is not valid JSON" in err
    code, _, err = await run(capsys, [*signal, "--key", "a/b", "--input", "1"], app_dir)
    assert code == 1 and "Entity keys must not contain /" in err
    code, _, err = await run(capsys, [*signal, "--key", "", "--input", "1"], app_dir)
    assert code == 1 and "Entity key cannot be empty" in err
    # nothing was sent: the first good signal is the only one the entity sees
    assert (await run(capsys, [*signal, "--key", "bad", "--input", "1"], app_dir))[0] == 0
    await read_until(capsys, app_dir, "bad", 1)


async def test_signal_at_a_later_time(app_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    signal = ["signal-entity", "--name", "counter", "--key", "later", "--operation", "add"]
    in_an_hour = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    assert (await run(capsys, [*signal, "--input", "100", "--at", in_an_hour], app_dir))[0] == 0
    soon = (datetime.now(UTC) + timedelta(seconds=1)).isoformat()
    assert (await run(capsys, [*signal, "--input", "1", "--at", soon], app_dir))[0] == 0
    await read_until(capsys, app_dir, "later", 1)  # the one due in an hour has not been applied


async def test_list_entities_pages(app_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    keys = ["a", "b", "c"]
    for number, key in enumerate(keys, start=1):
        signal = ["signal-entity", "--name", "counter", "--key", key, "--operation", "add", "--input", str(number)]
        assert (await run(capsys, signal, app_dir))[0] == 0
    for number, key in enumerate(keys, start=1):
        await read_until(capsys, app_dir, key, number)
    listed: list[dict] = []
    token: str | None = None
    while True:
        page_argv = ["list-entities", "--name", "counter", "--top", "2", "--fetch-state"]
        code, out, err = await run(capsys, [*page_argv, *(["--continuation-token", token] if token else [])], app_dir)
        assert code == 0, err
        page = json.loads(out)
        assert len(page["entities"]) <= 2
        listed.extend(page["entities"])
        token = page["continuationToken"]
        if token is None:
            break
    assert [(entry["entityId"], entry["state"]) for entry in sorted(listed, key=lambda e: e["entityId"]["key"])] == [
        ({"name": "counter", "key": key}, number) for number, key in enumerate(keys, start=1)
    ]
    code, out, _ = await run(capsys, ["list-entities"], app_dir)
    assert code == 0
    everything = json.loads(out)["entities"]
    assert {entry["entityId"]["key"] for entry in everything} == set(keys)
    assert all(entry["state"] is None and entry["lastOperationTime"].endswith("Z") for entry in everything)
    assert (await run(capsys, ["list-entities", "--top", "0"], app_dir))[0] == 1
