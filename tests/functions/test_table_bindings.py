"""Table input and output bindings, against Azurite (tests/functions/blob_app)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from durable_azure.azure_storage import StorageAccount, TaskHub
from durable_azure.azure_storage.table_entities import Int64
from durable_azure.errors import ConfigurationError, FunctionInvocationError
from durable_azure.functions.bindings import check_function
from durable_azure.functions.bindings.table import transactions
from durable_azure.functions.bindings.table_json import output_entities
from tests.functions.harness import RunningApp, body_json, running_app
from tests.functions.test_blob_bindings import unique_names

APP_DIR = Path(__file__).parent / "blob_app"


@pytest.fixture
def table(monkeypatch: pytest.MonkeyPatch) -> str:
    return unique_names(monkeypatch)["TABLE"]


@pytest_asyncio.fixture
async def app(task_hub: TaskHub, table: str) -> AsyncIterator[RunningApp]:
    async with running_app(APP_DIR, task_hub, with_worker=False) as running:
        yield running


async def rows_in(storage_account: StorageAccount, table: str) -> list[dict[str, object]]:
    return [row.properties async for row in storage_account.tables.query(table)]


async def seed(storage_account: StorageAccount, table: str) -> None:
    await storage_account.tables.create_table(table)
    for partition, row, score in [("p", "1", 3), ("p", "2", 7), ("p", "3", 9), ("q", "1", 8)]:
        await storage_account.tables.insert(
            table, {"PartitionKey": partition, "RowKey": row, "Score": score, "Big": Int64(5)}
        )


async def test_single_entity_is_a_json_object_of_its_properties(
    app: RunningApp, table: str, storage_account: StorageAccount
) -> None:
    await seed(storage_account, table)
    entity = body_json(await app.call("read_entity", method="GET", route_params={"pk": "p", "rk": "2"}))
    assert entity == {"PartitionKey": "p", "RowKey": "2", "Score": 7, "Big": 5}  # no Timestamp, no odata.etag
    missing = await app.call("read_entity", method="GET", route_params={"pk": "p", "rk": "nope"})
    assert missing.get_body() == b"null"


async def test_query_by_partition_with_take_and_by_filter(
    app: RunningApp, table: str, storage_account: StorageAccount
) -> None:
    await seed(storage_account, table)
    two = body_json(await app.call("query_two", method="GET", route_params={"pk": "p"}))
    assert [row["RowKey"] for row in two] == ["1", "2"]
    filtered = body_json(await app.call("query_filter", method="GET"))
    assert sorted((row["PartitionKey"], row["RowKey"]) for row in filtered) == [("p", "2"), ("p", "3"), ("q", "1")]


async def test_query_of_a_missing_table_fails_naming_the_binding(app: RunningApp, table: str) -> None:
    with pytest.raises(FunctionInvocationError, match=f"input binding 'rows': table '{table}' does not exist"):
        await app.call("query_two", method="GET", route_params={"pk": "p"})


def test_row_key_with_take_or_filter_is_refused_at_indexing() -> None:
    trigger = {"type": "httpTrigger", "name": "req", "direction": "in"}
    for extra in ({"take": 3}, {"filter": "A eq 1"}):
        table = {"type": "table", "name": "row", "direction": "in", "tableName": "t", "rowKey": "r", **extra}
        with pytest.raises(ConfigurationError, match="'rowKey' cannot be combined"):
            check_function("f", [trigger, table])
    row_only = {"type": "table", "name": "row", "direction": "in", "tableName": "t", "rowKey": "r"}
    with pytest.raises(ConfigurationError, match="'rowKey' needs a 'partitionKey'"):
        check_function("f", [trigger, row_only])
    with pytest.raises(ConfigurationError, match="needs a 'tableName'"):
        check_function("f", [trigger, {"type": "table", "name": "row", "direction": "out"}])


async def test_output_inserts_creating_the_table_and_upserts_with_star_etag(
    app: RunningApp, table: str, storage_account: StorageAccount
) -> None:
    entities = [{"RowKey": "a", "Name": "first"}, {"PartitionKey": "other", "RowKey": "b", "Count": 2}]
    assert (await app.call("save", body=entities)).get_body() == b"saved"
    await app.call("save", body={"RowKey": "a", "Name": "replaced", "ETag": "*"})
    rows = sorted(await rows_in(storage_account, table), key=lambda row: str(row["RowKey"]))
    assert rows == [
        {"PartitionKey": "default", "RowKey": "a", "Name": "replaced"},
        {"PartitionKey": "other", "RowKey": "b", "Count": 2},
    ]


async def test_insert_of_an_existing_row_fails_naming_the_binding(
    app: RunningApp, table: str, storage_account: StorageAccount
) -> None:
    await app.call("save", body={"RowKey": "a", "Name": "first"})
    with pytest.raises(FunctionInvocationError, match="output binding 'rows': an entity already exists"):
        await app.call("save", body={"RowKey": "a", "Name": "second"})
    assert await rows_in(storage_account, table) == [{"PartitionKey": "default", "RowKey": "a", "Name": "first"}]


async def test_an_etag_replaces_if_unchanged_and_nested_values_are_stored_as_json_text(
    app: RunningApp, table: str, storage_account: StorageAccount
) -> None:
    await seed(storage_account, table)
    row = await storage_account.tables.get(table, "p", "1")
    assert row is not None and row.etag is not None
    entity = {"PartitionKey": "p", "RowKey": "1", "Tags": ["a", "b"], "odata.etag": row.etag}
    await app.call("save", body=entity)
    with pytest.raises(FunctionInvocationError, match="changed or is gone"):
        await app.call("save", body={**entity, "Score": 5})
    replaced = await storage_account.tables.get(table, "p", "1")
    assert replaced is not None and replaced.properties == {"PartitionKey": "p", "RowKey": "1", "Tags": '["a", "b"]'}


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("[{", "invalid JSON"),
        ([{"PartitionKey": "p"}], "entry 0: RowKey is missing"),
        ([1], "entry 0: expected a JSON object"),
    ],
)
def test_bad_output_values_name_the_binding_and_entry(value: object, message: str) -> None:
    with pytest.raises(FunctionInvocationError, match=f"output binding 'rows'.*{message}"):
        output_entities(value, binding_name="rows", partition_key=None, row_key=None)


def test_transactions_split_by_partition_size_and_repeated_row_key() -> None:
    value = [{"PartitionKey": "p", "RowKey": str(index)} for index in range(150)]
    value += [{"PartitionKey": "q", "RowKey": "x"}, {"PartitionKey": "q", "RowKey": "x", "ETag": "*"}]
    groups = transactions(output_entities(json.dumps(value), binding_name="rows", partition_key=None, row_key=None))
    assert [len(group) for group in groups] == [100, 50, 1, 1]
