"""The one error translator: storage answers and broken connections become our StorageError family.

Callers never match status codes: a lease error is `LeaseLostError`, a message
that is gone is `MessageGoneError`, another writer's 409/412 is
`ConcurrencyConflictError`, a refused credential is `CredentialError`, and
storage that stayed unreachable or busy through every retry is
`StorageUnavailableError`. Every error keeps the status and the service's
error code, and says whether an earlier attempt may have been applied.
Messages name the operation and the resource, never a URL's query (it may
hold a SAS) or a credential.
"""

from __future__ import annotations

import json
import re
from xml.etree import ElementTree

from durable_azure.azure_storage.transport.request import StorageRequest, StorageResponse
from durable_azure.errors import (
    ConcurrencyConflictError,
    CredentialError,
    LeaseLostError,
    MessageGoneError,
    StorageError,
    StorageUnavailableError,
)

LEASE_ERROR_CODES = frozenset(
    {
        "LeaseAlreadyPresent",
        "LeaseIdMismatchWithLeaseOperation",
        "LeaseIdMismatchWithBlobOperation",
        "LeaseIdMissing",
        "LeaseIsBrokenAndCannotBeRenewed",
        "LeaseIsBreakingAndCannotBeAcquired",
        "LeaseIsBreakingAndCannotBeChanged",
        "LeaseLost",
        "LeaseNotPresentWithLeaseOperation",
        "LeaseNotPresentWithBlobOperation",
    }
)
MESSAGE_GONE_CODES = frozenset({"MessageNotFound", "PopReceiptMismatch"})
_JSON_CODE = re.compile(rb'"code"\s*:\s*"([^"]+)"')


class TransportFailure(Exception):
    """A request got no complete answer: refused, reset, closed early or timed out (raised by transports).

    `is_sent` is False only when the request certainly never reached the
    server (the connection could not be opened); otherwise it may have been applied.
    """

    def __init__(self, message: str, *, is_sent: bool) -> None:
        super().__init__(message)
        self.is_sent = is_sent


def error_code(response: StorageResponse) -> str | None:
    """The service's error code: the `x-ms-error-code` header, else the XML or JSON error body."""
    code = response.header("x-ms-error-code")
    if code:
        return code
    body = response.body.lstrip()
    if body.startswith(b"<"):
        try:
            return ElementTree.fromstring(body).findtext("Code")
        except ElementTree.ParseError:
            return None
    if body.startswith(b"{"):
        try:
            error = json.loads(body).get("odata.error") or {}
            return error.get("code")
        except (ValueError, AttributeError):
            match = _JSON_CODE.search(body)
            return match.group(1).decode() if match else None
    return None


def describe(request: StorageRequest) -> str:
    return f", {request.context}" if request.context else ""


def error_for_response(
    request: StorageRequest,
    response: StorageResponse,
    *,
    maybe_applied: bool,
    credential: str,
    attempts: int,
) -> StorageError:
    """The error for a final unsuccessful answer to `request`.

    `credential` describes the connection's credential for a 401/403 ("Shared
    Key of app setting X"); `attempts` is how many were made (for answers that
    stayed busy or failing through every retry).
    """
    code = error_code(response)
    message = f"{request.operation} failed (HTTP {response.status} {code or ''}".rstrip() + f"{describe(request)})"
    error_class: type[StorageError] = StorageError
    if code in LEASE_ERROR_CODES:
        error_class = LeaseLostError
    elif code in MESSAGE_GONE_CODES or (response.status == 404 and "/messages/" in request.path):
        error_class = MessageGoneError
    elif response.status in (401, 403):
        hint = "; the identity needs a data role on the account" if code == "AuthorizationPermissionMismatch" else ""
        error_class, message = CredentialError, f"{message}: storage refused the {credential}{hint}"
    elif response.status in (409, 412):
        error_class = ConcurrencyConflictError
    elif response.status in (408, 429, 500, 502, 503, 504) and attempts > 1:
        error_class, message = StorageUnavailableError, f"{message}, after {attempts} attempts"
    return error_class(message, status=response.status, code=code, maybe_applied=maybe_applied)


def error_for_failure(
    request: StorageRequest, failure: TransportFailure, *, maybe_applied: bool, attempts: int
) -> StorageError:
    message = f"{request.operation} failed ({failure}{describe(request)}), after {attempts} attempts"
    return StorageUnavailableError(message, maybe_applied=maybe_applied)
