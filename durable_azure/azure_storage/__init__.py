"""The Azure Storage provider: the only package that imports azure.storage, azure.data.tables or azure.core.

It lays out a task hub exactly as the DTFx Azure Storage provider does (see
shared/reference/dtfx-azure-storage.md): control and work-item queues carrying
the MessageData envelope, the History and Instances tables, partition lease
blobs and the large-messages container.
"""

from __future__ import annotations

from durable_azure.azure_storage.account import RequestCounter, StorageAccount, translate_storage_errors
from durable_azure.azure_storage.connection import (
    IdentityCredential,
    IdentityKind,
    SharedAccessSignature,
    SharedKey,
    StorageConnection,
    parse_connection_string,
    resolve_connection,
)
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
    "SecretsStore",
    "SharedAccessSignature",
    "SharedKey",
    "StorageAccount",
    "StorageConnection",
    "TaskHub",
    "TaskHubNames",
    "TaskHubQueue",
    "TokenSource",
    "WorkerPresence",
    "build_token_credential",
    "escape_key",
    "parse_connection_string",
    "partition_index",
    "resolve_connection",
    "translate_storage_errors",
    "unescape_key",
    "validate_task_hub_name",
]
