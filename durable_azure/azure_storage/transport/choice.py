"""Which transport an account uses, chosen once when the account is built, with one log line.

`lean` (the default) is our HTTP/1.1 client; `sdk` is azure-core's aiohttp
transport. `auto` picks lean unless the environment routes one of the
account's endpoints through a proxy (`HTTPS_PROXY`/`HTTP_PROXY`, honouring
`NO_PROXY`), which only the SDK transport can follow: that account then uses
the SDK transport, and says so. The CA bundle (`REQUESTS_CA_BUNDLE`) works on
both; `SSL_CERT_FILE` and `SSL_CERT_DIR` too, through the system store.
"""

from __future__ import annotations

import enum
import logging
import os
import urllib.request
from collections.abc import Iterable, Mapping
from urllib.parse import urlsplit

from durable_azure.azure_storage.transport import Transport
from durable_azure.azure_storage.transport.azure_core import AzureCoreTransport
from durable_azure.azure_storage.transport.lean import LeanTransport
from durable_azure.errors import ConfigurationError

logger = logging.getLogger(__name__)

CA_BUNDLE_VARIABLES = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")


class TransportChoice(enum.StrEnum):
    AUTO = "auto"
    LEAN = "lean"
    SDK = "sdk"

    @classmethod
    def parse(cls, value: str) -> TransportChoice:
        try:
            return cls(value.strip().lower())
        except ValueError:
            choices = ", ".join(choice.value for choice in cls)
            raise ConfigurationError(f"storage transport must be one of {choices}, not {value!r}") from None


def ca_bundle(environ: Mapping[str, str] | None = None) -> str | None:
    """The CA bundle file Python HTTP tools honour besides the system store, if one is set."""
    environ = os.environ if environ is None else environ
    for name in CA_BUNDLE_VARIABLES:
        value = environ.get(name)
        if value:
            return value
    return None


def proxied_endpoint(endpoints: Iterable[str]) -> str | None:
    """The first endpoint the environment's proxy settings apply to, or None."""
    proxies = urllib.request.getproxies()
    for endpoint in endpoints:
        parts = urlsplit(endpoint)
        if parts.scheme in proxies and not urllib.request.proxy_bypass(parts.hostname or ""):
            return endpoint
    return None


def choose_transport(choice: TransportChoice, endpoints: Iterable[str], *, account_name: str) -> Transport:
    bundle = ca_bundle()
    endpoint_list = list(endpoints)
    if choice is TransportChoice.AUTO:
        proxied = proxied_endpoint(endpoint_list)
        if proxied is not None:
            logger.info(
                "storage.transport account=%s transport=sdk reason=a proxy is configured for %s",
                account_name,
                urlsplit(proxied).netloc,
            )
            return AzureCoreTransport(ca_bundle=bundle)
        return LeanTransport(ca_bundle=bundle)
    if choice is TransportChoice.SDK:
        return AzureCoreTransport(ca_bundle=bundle)
    proxied = proxied_endpoint(endpoint_list)
    if proxied is not None:  # the lean client cannot follow a proxy, and ignoring one silently is not an option
        raise ConfigurationError(
            f"storageProvider.storageTransport is 'lean', but a proxy is configured for {urlsplit(proxied).netloc} "
            "(HTTPS_PROXY/HTTP_PROXY): use 'auto' or 'sdk', or exclude the host with NO_PROXY"
        )
    return LeanTransport(ca_bundle=bundle)
