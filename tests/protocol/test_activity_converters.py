"""An unmodified app's activity input and output go through the Python worker's converter, as under the host."""

from __future__ import annotations

import pytest

from durable_azure.functions.activity_converters import decode_activity_input, encode_activity_output


def test_json_text_is_decoded_and_plain_text_from_a_dotnet_caller_is_kept() -> None:
    assert decode_activity_input('"Tokyo"') == "Tokyo"
    assert decode_activity_input('{"a": [1, 2]}') == {"a": [1, 2]}
    assert decode_activity_input("Tokyo") == "Tokyo"
    assert decode_activity_input(None) is None


def test_results_are_json_and_a_value_json_cannot_hold_fails_with_the_converters_message() -> None:
    assert encode_activity_output({"a": 1}) == '{"a": 1}'
    assert encode_activity_output(None) == "null"
    with pytest.raises(ValueError, match="json serializable"):
        encode_activity_output(object())
