"""The Azure Storage provider: the only package that talks to Azure Storage (and imports azure.core).

It lays out a task hub exactly as the DTFx Azure Storage provider does (see
shared/reference/dtfx-azure-storage.md): control and work-item queues carrying
the MessageData envelope, the History and Instances tables, partition lease
blobs and the large-messages container. Every request goes through one seam
(transport/): one signer, one retry policy, one error translator, and one of
two transports chosen per account.
"""

from __future__ import annotations

from durable_azure.azure_storage.account import StorageAccount
from durable_azure.azure_storage.connection import (
    IdentityCredential,
    IdentityKind,
    SharedAccessSignature,
    SharedKey,
    StorageConnection,
    parse_connection_string,
)
from durable_azure.azure_storage.connection_sections import resolve_connection
from durable_azure.azure_storage.credentials import TokenSource, build_token_credential
from durable_azure.azure_storage.history_table import HistoryTable, LoadedHistory
from durable_azure.azure_storage.instances_table import InstancePage, InstanceRecord, InstancesTable
from durable_azure.azure_storage.leases import LeaseStore, PartitionLease
from durable_azure.azure_storage.messages import MessageCodec, MessageData
from durable_azure.azure_storage.names import (
    TaskHubNames,
    escape_key,
    partition_index,
    unescape_key,
    validate_task_hub_name,
)
from durable_azure.azure_storage.presence import WorkerPresence
from durable_azure.azure_storage.queues import MAX_MESSAGES_PER_RECEIVE, ReceivedMessage, TaskHubQueue
from durable_azure.azure_storage.secrets import SECRETS_CONTAINER, SecretsStore
from durable_azure.azure_storage.task_hub import TaskHub
from durable_azure.azure_storage.transport.choice import TransportChoice
from durable_azure.azure_storage.transport.counter import RequestCounter
from durable_azure.azure_storage.transport.retry import RetrySettings

__all__ = [
    "MAX_MESSAGES_PER_RECEIVE",
    "SECRETS_CONTAINER",
    "HistoryTable",
    "IdentityCredential",
    "IdentityKind",
    "InstancePage",
    "InstanceRecord",
    "InstancesTable",
    "LeaseStore",
    "LoadedHistory",
    "MessageCodec",
    "MessageData",
    "PartitionLease",
    "ReceivedMessage",
    "RequestCounter",
    "RetrySettings",
    "SecretsStore",
    "SharedAccessSignature",
    "SharedKey",
    "StorageAccount",
    "StorageConnection",
    "TaskHub",
    "TaskHubNames",
    "TaskHubQueue",
    "TokenSource",
    "TransportChoice",
    "WorkerPresence",
    "build_token_credential",
    "escape_key",
    "parse_connection_string",
    "partition_index",
    "resolve_connection",
    "unescape_key",
    "validate_task_hub_name",
]
