"""The SDK's value classes read and write the same JSON as azure.durable_functions' (a dev dependency here).

Apps build `DurableOrchestrationStatus` / `PurgeHistoryResult` from HTTP API documents with `from_json`, and
write statuses out with `to_json`; `durable_azure.models` resolves call_http's names once their module exists.
"""

from __future__ import annotations

import importlib
from datetime import UTC, datetime

import pytest
from azure.durable_functions.models.DurableOrchestrationStatus import (
    DurableOrchestrationStatus as SdkStatus,
)
from azure.durable_functions.models.PurgeHistoryResult import PurgeHistoryResult as SdkPurgeResult

import durable_azure
import durable_azure.models
from durable_azure.models.DurableOrchestrationStatus import DurableOrchestrationStatus
from durable_azure.models.OrchestrationRuntimeStatus import OrchestrationRuntimeStatus
from durable_azure.models.PurgeHistoryResult import PurgeHistoryResult

DOCUMENT = {
    "name": "hello",
    "instanceId": "abc",
    "createdTime": "2024-01-31T10:00:00.123456Z",
    "lastUpdatedTime": "2024-01-31T10:00:05.000001Z",
    "input": {"who": "Ana"},
    "output": "Hello Ana!",
    "runtimeStatus": "Completed",
    "customStatus": {"step": 2},
    "history": [{"EventType": "ExecutionStarted"}],
}


def test_status_from_the_http_api_document_reads_as_the_sdks() -> None:
    ours, sdk = DurableOrchestrationStatus.from_json(DOCUMENT), SdkStatus.from_json(DOCUMENT)
    for name in ("name", "instance_id", "input_", "output", "custom_status", "history"):
        assert getattr(ours, name) == getattr(sdk, name), name
    assert ours.runtime_status is OrchestrationRuntimeStatus.Completed
    assert ours.runtime_status.value == sdk.runtime_status.value
    assert ours.created_time == datetime(2024, 1, 31, 10, 0, 0, 123456, tzinfo=UTC)
    assert ours.created_time == sdk.created_time and ours.last_updated_time == sdk.last_updated_time
    assert bool(ours) and not DurableOrchestrationStatus.from_json({"instanceId": "nobody"})


def test_status_to_json_is_the_sdks_and_round_trips_both_ways() -> None:
    ours = DurableOrchestrationStatus.from_json(DOCUMENT)
    assert ours.to_json() == SdkStatus.from_json(DOCUMENT).to_json()
    assert list(ours.to_json()) == list(SdkStatus.from_json(DOCUMENT).to_json())
    assert DurableOrchestrationStatus.from_json(ours.to_json()) == ours
    assert SdkStatus.from_json(ours.to_json()).to_json() == ours.to_json()


def test_status_keeps_extra_fields_and_reads_a_message_as_the_sdk_does() -> None:
    status = DurableOrchestrationStatus.from_json({**DOCUMENT, "extra": 1})
    assert status.extra == 1  # type: ignore[attr-defined]
    assert DurableOrchestrationStatus.from_json("gone").message == "gone"  # type: ignore[attr-defined]
    assert not DurableOrchestrationStatus.from_json("gone")


def test_purge_result_from_json_as_the_sdks() -> None:
    ours = PurgeHistoryResult.from_json({"instancesDeleted": 3})
    assert ours.instances_deleted == SdkPurgeResult.from_json({"instancesDeleted": 3}).instances_deleted == 3
    assert PurgeHistoryResult(0) == PurgeHistoryResult.from_json({"instancesDeleted": 0})


def test_call_http_names_are_the_classes_at_every_sdk_path() -> None:
    from durable_azure.orchestration import http

    request_module = importlib.import_module("durable_azure.models.DurableHttpRequest")
    token_module = importlib.import_module("durable_azure.models.TokenSource")

    for name in ("DurableHttpRequest", "TokenSource", "ManagedIdentityTokenSource"):
        assert getattr(durable_azure.models, name) is getattr(http, name)
        assert getattr(durable_azure, name) is getattr(http, name)
    # importing the same-named module leaves the package's name on the class, as in the SDK
    assert request_module.DurableHttpRequest is durable_azure.models.DurableHttpRequest
    assert token_module.ManagedIdentityTokenSource is durable_azure.models.ManagedIdentityTokenSource


def test_df_models_is_reachable_as_in_the_sdk() -> None:
    assert durable_azure.models.DurableOrchestrationStatus is durable_azure.DurableOrchestrationStatus
    assert durable_azure.models.PurgeHistoryResult is durable_azure.PurgeHistoryResult
    with pytest.raises(AttributeError, match="OrchestratorState"):
        _ = durable_azure.models.OrchestratorState
