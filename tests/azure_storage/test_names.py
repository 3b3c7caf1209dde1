"""Resource names, hub-name validation, key escaping and the partition hash, as DTFx defines them."""

from __future__ import annotations

import pytest

from durable_azure.azure_storage import TaskHubNames, escape_key, partition_index, unescape_key, validate_task_hub_name
from durable_azure.azure_storage.names import fnv1a_32
from durable_azure.errors import ConfigurationError


def test_fnv1a_check_values() -> None:
    assert fnv1a_32(b"a") == 3826002220
    assert fnv1a_32(b"foobar") == 3214735720
    assert fnv1a_32(b"") == 2166136261


def test_partition_index_is_hash_modulo_count() -> None:
    assert partition_index("foobar", 4) == 3214735720 % 4
    assert partition_index("a", 16) == 3826002220 % 16
    assert partition_index("é", 7) == fnv1a_32("é".encode()) % 7


@pytest.mark.parametrize("name", ["abc", "MyHub1", "A" * 45])
def test_valid_hub_names(name: str) -> None:
    assert validate_task_hub_name(name) == name


@pytest.mark.parametrize("name", ["ab", "A" * 46, "1hub", "my-hub", "my_hub", "hub name", ""])
def test_invalid_hub_names(name: str) -> None:
    with pytest.raises(ConfigurationError):
        validate_task_hub_name(name)


def test_resource_names_follow_dtfx() -> None:
    names = TaskHubNames("MyHub")
    assert names.control_queue(0) == "myhub-control-00"
    assert names.control_queue(15) == "myhub-control-15"
    assert names.work_item_queue == "myhub-workitems"
    assert names.history_table == "MyHubHistory"
    assert names.instances_table == "MyHubInstances"
    assert names.leases_container == "myhub-leases"
    assert names.large_messages_container == "myhub-largemessages"
    assert names.poison_queue == "myhub-poison"
    assert names.lease_blob("myhub-control-02") == "default/myhub-control-02"


def test_blob_names_follow_dtfx() -> None:
    activity_id = "6a4e3c1e-0b8a-4d55-9b9c-1d2f0e3a4b5c"
    assert (
        TaskHubNames.message_blob("a/b", activity_id, "ExecutionStarted")
        == "a/b/message-6a4e3c1e0b8a4d559b9c1d2f0e3a4b5c-ExecutionStarted.json.gz"
    )
    name = TaskHubNames.history_blob("a/b", "000000000000000A", "TaskCompleted", "Result")
    prefix, _, rest = name.partition("/history-000000000000000A-TaskCompleted-")
    assert prefix == "a^0b"
    random_part, column = rest.split("-")
    assert len(random_part) == 8 and column == "Result.json.gz"


@pytest.mark.parametrize(
    ("instance_id", "escaped"),
    [
        ("plain-id_1", "plain-id_1"),
        ("a/b\\c#d?e", "a^0b^1c^2d^3e"),
        ("caret^", "caret^^"),
        ("tab\tnew\n", "tab^\u00c9new^\u00ca"),
        ("\x7f\x9f", "^\u013f^\u015f"),
    ],
)
def test_escape_key_round_trip(instance_id: str, escaped: str) -> None:
    assert escape_key(instance_id) == escaped
    assert unescape_key(escaped) == instance_id
