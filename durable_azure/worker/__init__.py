"""The worker layer: dispatchers that join the replay engine and the storage provider.

Imports `orchestration/` and `azure_storage/`, never `client` or `functions/`.
"""

from durable_azure.worker.registry import ActivityFunction, Registry
from durable_azure.worker.worker import Worker, default_worker_id

__all__ = ["ActivityFunction", "Registry", "Worker", "default_worker_id"]
