"""`azure.durable_functions.models.TokenSource`'s module path: where `call_http` gets a bearer token from."""

from durable_azure.orchestration.http import ManagedIdentityTokenSource, TokenSource

__all__ = ["ManagedIdentityTokenSource", "TokenSource"]
