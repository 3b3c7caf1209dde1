"""Binding expressions, as the Functions host resolves them in paths, queue and table names.

- `%Setting%`: an app setting (environment), anywhere in the text; an unset setting is an error naming it.
- `{name}`: trigger metadata (`{queueTrigger}`, `{Id}`, a blob path's `{name}`, ...), route parameters, and
  properties of a JSON trigger payload, with dot notation (`{order.id}`); names compare without case.
- `{rand-guid}` / `{sys.randguid}` (optional .NET format: `{rand-guid:N}`), `{DateTime}` / `{sys.utcnow}`
  (UTC; default format `yyyy-MM-ddTHH-mm-ssK`, or `{DateTime:yyyyMMdd}`), `{sys.methodname}`.
- `{{` and `}}` are literal braces.

An expression that names nothing the invocation knows fails the binding ("Unable to resolve binding
parameter 'x'"), as in Azure, rather than writing to a path with the braces left in.
"""

from __future__ import annotations

import datetime
import json
import os
import re
import uuid
from collections.abc import Mapping
from typing import Any

from durable_azure.errors import ConfigurationError, FunctionInvocationError

_WHOLE_SETTING = re.compile(r"^%([^%]+)%$")
_SETTING = re.compile(r"%([^%{}]+)%")
_PARAMETER = re.compile(r"\{\{|\}\}|\{([^{}]+)\}")
_DEFAULT_DATETIME_FORMAT = "yyyy-MM-ddTHH-mm-ssK"
_DOTNET_DATETIME = [
    ("yyyy", "%Y"),
    ("yy", "%y"),
    ("MM", "%m"),
    ("dd", "%d"),
    ("HH", "%H"),
    ("hh", "%I"),
    ("mm", "%M"),
    ("ss", "%S"),
    ("fffffff", "%f0"),
    ("ffffff", "%f"),
    ("fff", "{millis}"),
    ("K", "Z"),
]


def app_setting(value: str | None) -> str | None:
    """`%Name%` read from the app settings (environment); other values as given; empty is None."""
    if not value:
        return None
    match = _WHOLE_SETTING.match(value)
    if match is None:
        return value
    setting = os.environ.get(match.group(1))
    if not setting:
        raise FunctionInvocationError(f"app setting {match.group(1)!r} (used as {value}) is not set")
    return setting


def resolve_settings(text: str, *, where: str) -> str:
    """Every `%Setting%` in `text` replaced; ConfigurationError naming `where` and the setting when unset."""

    def replace(match: re.Match[str]) -> str:
        value = os.environ.get(match.group(1))
        if value is None:
            raise ConfigurationError(f"{where}: app setting {match.group(1)!r} (used as {match.group(0)}) is not set")
        return value

    return _SETTING.sub(replace, text)


def resolve(text: str, binding_data: Mapping[str, Any], *, where: str, method_name: str = "") -> str:
    """`text` with settings and `{...}` parameters filled in from `binding_data`."""
    text = resolve_settings(text, where=where)
    now = datetime.datetime.now(datetime.UTC)
    lowered = {key.lower(): value for key, value in binding_data.items()}

    def replace(match: re.Match[str]) -> str:
        token = match.group(0)
        if token == "{{":
            return "{"
        if token == "}}":
            return "}"
        expression = match.group(1).strip()
        name, _, form = expression.partition(":")
        key = name.strip().lower()
        if key in ("rand-guid", "sys.randguid"):
            return _guid(uuid.uuid4(), form)
        if key in ("datetime", "sys.utcnow"):
            return format_datetime(now, form or _DEFAULT_DATETIME_FORMAT)
        if key == "sys.methodname":
            return method_name
        value = _lookup(lowered, key)
        if value is None:
            raise FunctionInvocationError(f"{where}: Unable to resolve binding parameter {name.strip()!r}")
        return value if isinstance(value, str) else json.dumps(value) if isinstance(value, dict | list) else str(value)

    return _PARAMETER.sub(replace, text)


def has_parameters(text: str) -> bool:
    return any(match.group(1) for match in _PARAMETER.finditer(text))


def format_datetime(moment: datetime.datetime, dotnet_format: str) -> str:
    """A UTC datetime in a .NET custom format (the tokens paths use: yyyy MM dd HH mm ss fff K)."""
    pattern = dotnet_format
    for token, replacement in _DOTNET_DATETIME:
        pattern = pattern.replace(token, replacement)
    return moment.strftime(pattern).replace("{millis}", f"{moment.microsecond // 1000:03d}")


def _guid(value: uuid.UUID, form: str) -> str:
    form = form.strip().upper()
    if form == "N":
        return value.hex
    if form == "B":
        return "{" + str(value) + "}"
    if form == "P":
        return "(" + str(value) + ")"
    return str(value)


def _lookup(data: Mapping[str, Any], key: str) -> Any:
    if key in data:
        return data[key]
    head, dot, rest = key.partition(".")
    if not dot or head not in data:
        return None
    value = data[head]
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return None
    for part in rest.split("."):
        if not isinstance(value, Mapping):
            return None
        value = {str(name).lower(): item for name, item in value.items()}.get(part)
    return value


__all__ = ["app_setting", "format_datetime", "has_parameters", "resolve", "resolve_settings"]
