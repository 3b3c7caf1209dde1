"""The module path `azure.durable_functions.models.RetryOptions`: the retry policy.

Re-exported from `durable_azure.orchestration.retry`.
"""

from __future__ import annotations

from durable_azure.orchestration.retry import RetryOptions

__all__ = ["RetryOptions"]
