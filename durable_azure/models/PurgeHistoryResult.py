"""The module path `azure.durable_functions.models.PurgeHistoryResult`: a purge's result.

Re-exported from `durable_azure.status`.
"""

from __future__ import annotations

from durable_azure.status import PurgeHistoryResult

__all__ = ["PurgeHistoryResult"]
