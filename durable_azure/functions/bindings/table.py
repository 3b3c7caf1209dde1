"""`table` input and output bindings (the Tables extension's), over the account of the binding's `connection`.

Input, as a JSON string (the Python worker has no table converter): with `partitionKey` and `rowKey`, the one
entity (None when it does not exist: one point read); otherwise an array from a query whose filter is
`PartitionKey eq '<partitionKey>'` and the binding's `filter`, at most `take` entities (one request per
1,000). A missing table fails a query (as the extension's does) and reads as no entity for a point read.
`rowKey` with `take` or `filter` is refused at start-up, as the extension refuses it.

Output: a JSON object or array (text, or a dict/list). An entity without ETag is inserted (an existing row
fails the invocation, naming the binding and the keys); `"ETag": "*"` inserts or replaces; another ETag
replaces If-Match. Input entities carry no ETag (as the extension's), so a conditional replace needs one
the function got elsewhere. Entities are written in entity-group transactions per partition of at most 100, a
repeated RowKey starting a new one, in the order given; a table that does not exist is created and the
transaction sent again, as the extension does.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from durable_azure.azure_storage.batches import MAX_BATCH_OPERATIONS, BatchOperation
from durable_azure.azure_storage.table_entities import odata_literal
from durable_azure.errors import ConcurrencyConflictError, ConfigurationError, FunctionInvocationError, StorageError
from durable_azure.functions.bindings import Write, register
from durable_azure.functions.bindings.blob import storage_account
from durable_azure.functions.bindings.expressions import resolve
from durable_azure.functions.bindings.table_json import OutputEntity, entity_json, output_entities

if TYPE_CHECKING:
    from durable_azure.azure_storage import StorageAccount
    from durable_azure.azure_storage.table_entities import TableRow
    from durable_azure.functions.indexing import BindingSpec
    from durable_azure.functions.invocation import Invocation


class TableBinding:
    """Both directions: `read` serves inputs, `plan` outputs."""

    def check(self, function_name: str, binding: BindingSpec) -> None:
        where = f"function {function_name!r}: table binding {binding.name!r}"
        if not binding.field("tableName"):
            raise ConfigurationError(f"{where} needs a 'tableName'")
        if binding.direction.value == "out":
            return
        take = binding.field("take")
        if take is not None and (isinstance(take, bool) or not isinstance(take, int) or take <= 0):
            raise ConfigurationError(f"{where}: 'take' must be a positive integer, got {take!r}")
        if binding.field("rowKey") and (take is not None or binding.field("filter")):
            raise ConfigurationError(f"{where}: 'rowKey' cannot be combined with 'take' or 'filter'")
        if binding.field("rowKey") and not binding.field("partitionKey"):
            raise ConfigurationError(f"{where}: 'rowKey' needs a 'partitionKey' (one entity is read by both keys)")

    async def read(self, invocation: Invocation, binding: BindingSpec) -> Any:
        fields = _Fields(invocation, binding)
        table, partition_key, row_key = fields.get("tableName"), fields.get("partitionKey"), fields.get("rowKey")
        assert table is not None  # check() made sure
        account = storage_account(invocation, binding)
        if partition_key is not None and row_key is not None:
            row = await account.tables.get(table, partition_key, row_key)
            return None if row is None else json.dumps(_document(row))
        take = binding.field("take")
        query_filter = _filter(partition_key, fields.get("filter"))
        try:
            rows = [_document(row) async for row in _query(account, table, query_filter, take)]
        except StorageError as error:
            if error.code != "TableNotFound":
                raise
            raise FunctionInvocationError(
                f"function {invocation.function_name!r}: input binding {binding.name!r}: table {table!r} does not exist"
            ) from error
        return json.dumps(rows)

    async def plan(self, invocation: Invocation, binding: BindingSpec, value: Any) -> Write | None:
        if value is None:
            return None
        fields = _Fields(invocation, binding)
        table = fields.get("tableName")
        assert table is not None
        entities = output_entities(
            value, binding_name=binding.name, partition_key=fields.get("partitionKey"), row_key=fields.get("rowKey")
        )
        if not entities:
            return None
        account = storage_account(invocation, binding)

        async def write() -> None:
            for transaction in transactions(entities):
                await _write_transaction(account, table, transaction, binding.name)

        return write


class _Fields:
    """The binding's text fields with their expressions resolved against the invocation's binding data."""

    def __init__(self, invocation: Invocation, binding: BindingSpec) -> None:
        self._invocation = invocation
        self._binding = binding

    def get(self, key: str) -> str | None:
        value = self._binding.field(key)
        if value is None or value == "":
            return None
        where = f"function {self._invocation.function_name!r}, binding {self._binding.name!r}"
        return resolve(
            str(value), self._invocation.binding_data, where=where, method_name=self._invocation.function_name
        )


def _filter(partition_key: str | None, user_filter: str | None) -> str | None:
    parts = []
    if partition_key is not None:
        parts.append(f"PartitionKey eq {odata_literal(partition_key)}")
    if user_filter:
        parts.append(f"({user_filter})" if parts else user_filter)
    return " and ".join(parts) or None


async def _query(
    account: StorageAccount, table: str, query_filter: str | None, take: int | None
) -> AsyncIterator[TableRow]:
    """At most `take` rows (all when None), asking each page for no more than are still wanted."""
    continuation = None
    wanted = take
    while wanted is None or wanted > 0:
        page = await account.tables.query_page(table, query_filter, page_size=wanted, continuation=continuation)
        for row in page.rows[:wanted]:
            yield row
        if wanted is not None:
            wanted -= min(len(page.rows), wanted)
        if page.continuation is None:
            return
        continuation = page.continuation


def _document(row: TableRow) -> dict[str, Any]:
    return entity_json(row.properties)


def transactions(entities: list[OutputEntity]) -> list[list[OutputEntity]]:
    """Entity groups to send, in order: one partition each, at most 100, never the same RowKey twice."""
    groups: list[list[OutputEntity]] = []
    open_groups: dict[str, list[OutputEntity]] = {}
    for entity in entities:
        group = open_groups.get(entity.partition_key)
        full = group is not None and len(group) >= MAX_BATCH_OPERATIONS
        if group is None or full or any(other.row_key == entity.row_key for other in group):
            group = []
            groups.append(group)
            open_groups[entity.partition_key] = group
        group.append(entity)
    return groups


def _operation(entity: OutputEntity) -> BatchOperation:
    if entity.etag is None:
        return BatchOperation("create", entity.properties)
    if entity.etag == "*":
        return BatchOperation("upsert", entity.properties)
    return BatchOperation("replace", entity.properties, etag=entity.etag)


async def _write_transaction(account: StorageAccount, table: str, group: list[OutputEntity], binding_name: str) -> None:
    operations = [_operation(entity) for entity in group]
    try:
        try:
            await account.tables.batch(table, operations, operation="table output")
        except StorageError as error:
            if error.code != "TableNotFound":
                raise
            await account.tables.create_table(table)
            await account.tables.batch(table, operations, operation="table output")
    except ConcurrencyConflictError as error:
        if error.maybe_applied:  # our own earlier attempt went through; the rows are what we wrote
            return
        keys = ", ".join(f"({entity.partition_key!r}, {entity.row_key!r})" for entity in group[:5])
        reason = "an entity already exists" if error.status == 409 else "an entity changed or is gone (ETag)"
        raise FunctionInvocationError(
            f"output binding {binding_name!r}: {reason} in table {table!r}; rows (PartitionKey, RowKey): {keys} "
            f"({error})"
        ) from error


register("table", "in", TableBinding())
register("table", "out", TableBinding())
