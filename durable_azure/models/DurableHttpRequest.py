"""`azure.durable_functions.models.DurableHttpRequest`'s module path: the durable HTTP request of `call_http`."""

from durable_azure.orchestration.http import DurableHttpRequest

__all__ = ["DurableHttpRequest"]
