"""parse_connection_string: Shared Key, SAS and development storage; errors name the problem, never a value."""

from __future__ import annotations

import pytest

from durable_azure.azure_storage.connection import (
    SharedAccessSignature,
    SharedKey,
    StorageConnection,
    parse_connection_string,
)
from durable_azure.azurite import DEVELOPMENT_ACCOUNT_KEY
from durable_azure.errors import ConfigurationError

KEY = DEVELOPMENT_ACCOUNT_KEY
TOKEN = "sv=2026-10-06&ss=bqt&srt=sco&sp=rwdlacup&se=2030-01-01T00:00:00Z&sig=c2VjcmV0c2lnbmF0dXJl"
SOURCE = "app setting AzureWebJobsStorage"


def parse(text: str) -> StorageConnection:
    return parse_connection_string(text, source=SOURCE)


@pytest.mark.parametrize("text", ["UseDevelopmentStorage=true", " usedevelopmentstorage = TRUE ;"])
def test_development_storage(text: str) -> None:
    connection = parse(text)
    assert connection.is_development_storage
    assert connection.account_name == "devstoreaccount1"
    assert connection.endpoints == (
        "http://127.0.0.1:10000/devstoreaccount1",
        "http://127.0.0.1:10001/devstoreaccount1",
        "http://127.0.0.1:10002/devstoreaccount1",
    )
    assert connection.credential == SharedKey(account_name="devstoreaccount1", account_key=KEY)
    assert connection.source == SOURCE


def test_account_key_with_default_endpoints() -> None:
    connection = parse(
        f"DefaultEndpointsProtocol=https;AccountName=myaccount;AccountKey={KEY};EndpointSuffix=core.windows.net"
    )
    assert connection.account_name == "myaccount"
    assert connection.endpoints == (
        "https://myaccount.blob.core.windows.net",
        "https://myaccount.queue.core.windows.net",
        "https://myaccount.table.core.windows.net",
    )
    assert connection.credential == SharedKey(account_name="myaccount", account_key=KEY)
    assert not connection.is_development_storage


def test_protocol_and_suffix_of_another_cloud() -> None:
    connection = parse(
        f"AccountName=acct;AccountKey={KEY};DefaultEndpointsProtocol=HTTP;EndpointSuffix=core.chinacloudapi.cn"
    )
    assert connection.queue_endpoint == "http://acct.queue.core.chinacloudapi.cn"


def test_explicit_endpoints_win_and_lose_their_trailing_slash() -> None:
    connection = parse(
        f"AccountName=devstoreaccount1;AccountKey={KEY};BlobEndpoint=http://127.0.0.1:5/devstoreaccount1/;"
        "QueueEndpoint=http://127.0.0.1:6/devstoreaccount1;"
    )
    assert connection.blob_endpoint == "http://127.0.0.1:5/devstoreaccount1"
    assert connection.queue_endpoint == "http://127.0.0.1:6/devstoreaccount1"
    assert connection.table_endpoint == "https://devstoreaccount1.table.core.windows.net"


def test_sas_with_explicit_endpoints_and_no_account_name() -> None:
    connection = parse(
        "BlobEndpoint=https://acct.blob.core.windows.net/;QueueEndpoint=https://acct.queue.core.windows.net/;"
        f"FileEndpoint=https://acct.file.core.windows.net/;TableEndpoint=https://acct.table.core.windows.net/;"
        f"SharedAccessSignature=?{TOKEN}"
    )
    assert connection.account_name == "acct"
    assert connection.credential == SharedAccessSignature(token=TOKEN)


def test_sas_on_azurite_style_endpoints_takes_the_account_from_the_path() -> None:
    endpoints = ";".join(
        f"{service}Endpoint=http://127.0.0.1:{port}/devstoreaccount1"
        for service, port in [("Blob", 1), ("Queue", 2), ("Table", 3)]
    )
    assert parse(f"{endpoints};SharedAccessSignature={TOKEN}").account_name == "devstoreaccount1"


def test_sas_with_account_name() -> None:
    connection = parse(f"AccountName=acct;SharedAccessSignature={TOKEN}")
    assert connection.table_endpoint == "https://acct.table.core.windows.net"


def test_reprs_hide_key_and_token() -> None:
    keyed = parse(f"AccountName=acct;AccountKey={KEY}")
    signed = parse(f"AccountName=acct;SharedAccessSignature={TOKEN}")
    for text in (repr(keyed), repr(keyed.credential), repr(signed), repr(signed.credential)):
        assert KEY[:12] not in text
        assert "c2VjcmV0c2lnbmF0dXJl" not in text
    assert "acct" in repr(keyed)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "is empty"),
        ("  ", "is empty"),
        ("AccountName=x;garbage", "part 2 is not of the form Key=Value"),
        (f"AccountKey={KEY}", "has no AccountName and no BlobEndpoint"),
        ("AccountName=x", "neither AccountKey nor SharedAccessSignature"),
        (f"AccountName=x;AccountKey={KEY};SharedAccessSignature={TOKEN}", "both AccountKey and SharedAccessSignature"),
        ("AccountName=x;AccountKey=not base64!!", "AccountKey is not valid base64"),
        ("AccountName=x;AccountKey=", "AccountKey is empty"),
        ("AccountName=x;SharedAccessSignature=?", "SharedAccessSignature is empty"),
        (f"AccountName=x;AccountKey={KEY};QueueEndpoint=ftp://h", "queueendpoint is not an http"),
        (f"AccountName=x;AccountKey={KEY};BlobEndpoint=https://h:port/", "blobendpoint is not a valid URL"),
        (f"AccountName=x;AccountKey={KEY};TableEndpoint=https://h/?{TOKEN}", "must not carry a query string"),
        (f"AccountName=x;AccountKey={KEY};DefaultEndpointsProtocol=ftp", "DefaultEndpointsProtocol"),
        (
            f"BlobEndpoint=https://a.blob.x;QueueEndpoint=https://b.queue.x;TableEndpoint=https://a.table.x;"
            f"SharedAccessSignature={TOKEN}",
            "different account names",
        ),
    ],
)
def test_errors_name_the_setting_and_problem_never_the_value(text: str, problem: str) -> None:
    with pytest.raises(ConfigurationError) as raised:
        parse(text)
    message = str(raised.value)
    assert problem in message
    assert SOURCE in message
    for secret in (KEY, "not base64!!", "c2VjcmV0c2lnbmF0dXJl"):
        assert secret not in message


def test_default_source_for_a_bare_string() -> None:
    with pytest.raises(ConfigurationError, match=r"^storage connection string has no AccountName"):
        parse_connection_string(f"AccountKey={KEY};QueueEndpoint=https://q.example")
