"""call_http's configuration and names: host.json httpSettings, the reserved activity name, the SDK module paths."""

from __future__ import annotations

import pytest

import durable_azure as df
from durable_azure.errors import ConfigurationError
from durable_azure.functions.app import durable_registry
from durable_azure.settings import DurableTaskSettings
from durable_azure.worker.registry import ActivityFunction, Registry


def test_the_polling_interval_defaults_to_the_extensions_30_seconds() -> None:
    assert DurableTaskSettings().default_async_request_sleep_time_milliseconds == 30000
    assert DurableTaskSettings.from_host_json({"version": "2.0"}).default_async_request_sleep_time_milliseconds == 30000


def test_the_polling_interval_is_read_where_the_extension_reads_it() -> None:
    host = {"extensions": {"durableTask": {"httpSettings": {"defaultAsyncRequestSleepTimeMilliseconds": 250}}}}
    assert DurableTaskSettings.from_host_json(host).default_async_request_sleep_time_milliseconds == 250
    flat = {"durableTask": {"HttpSettings": {"DefaultAsyncRequestSleepTimeMilliseconds": "1000"}}}
    assert DurableTaskSettings.from_host_json(flat).default_async_request_sleep_time_milliseconds == 1000


@pytest.mark.parametrize("value", [0, -5, "soon", 1.5, True])
def test_a_bad_polling_interval_names_the_key(value: object) -> None:
    host = {"extensions": {"durableTask": {"httpSettings": {"defaultAsyncRequestSleepTimeMilliseconds": value}}}}
    with pytest.raises(ConfigurationError, match=r"httpSettings\.defaultAsyncRequestSleepTimeMilliseconds"):
        DurableTaskSettings.from_host_json(host)


def test_http_settings_must_be_an_object() -> None:
    with pytest.raises(ConfigurationError, match=r"extensions\.durableTask\.httpSettings"):
        DurableTaskSettings.from_host_json({"extensions": {"durableTask": {"httpSettings": 5}}})


def test_an_app_cannot_register_the_built_in_http_activity() -> None:
    app = df.DFApp()

    @app.activity_trigger(input_name="value", activity="builtin::httpactivity")
    def impostor(value: str) -> str:
        return value

    with pytest.raises(ConfigurationError, match="reserved"):
        durable_registry(app)
    with pytest.raises(ConfigurationError, match="BuiltIn::HttpActivity"):
        Registry(activities={"BuiltIn::HttpActivity": ActivityFunction(name="BuiltIn::HttpActivity", function=len)})


def test_the_sdk_module_paths_hold_the_same_classes() -> None:
    from durable_azure.models.DurableHttpRequest import DurableHttpRequest
    from durable_azure.models.TokenSource import ManagedIdentityTokenSource, TokenSource

    assert df.DurableHttpRequest is DurableHttpRequest
    assert df.ManagedIdentityTokenSource is ManagedIdentityTokenSource
    assert df.TokenSource is TokenSource
    assert isinstance(ManagedIdentityTokenSource("https://graph.microsoft.com/"), TokenSource)
