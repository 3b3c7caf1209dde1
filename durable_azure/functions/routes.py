"""Function route templates (`orders/{id:int}/{*rest}`) matched against request paths, as the Functions host does.

The host's templates are ASP.NET route templates: literal segments match case-insensitively, `{name}` one
segment, `{name?}` an optional last segment, `{name=default}` one with a default, `{name:constraint}` one
with a constraint (int, long, bool, guid, alpha, double, decimal and float are checked; others accept
anything), `{*name}` the rest of the path. Templates with more literal segments win over ones with fewer,
so `orders/latest` beats `orders/{id}` whatever the declaration order.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from durable_azure.errors import ConfigurationError

Target = TypeVar("Target")

_PARAMETER = re.compile(r"^\{(?P<star>\*{1,2})?(?P<name>[A-Za-z_][\w]*)(?P<rest>[^}]*)\}$")
_CONSTRAINTS = {
    "int": r"-?\d+",
    "long": r"-?\d+",
    "bool": r"(?i:true|false)",
    "guid": r"[0-9A-Fa-f]{8}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{12}",
    "alpha": r"[A-Za-z]+",
    "double": r"-?\d+(?:\.\d+)?",
    "decimal": r"-?\d+(?:\.\d+)?",
    "float": r"-?\d+(?:\.\d+)?",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class CompiledRoute(Generic[Target]):
    template: str
    pattern: re.Pattern[str]
    defaults: dict[str, str]
    literal_count: int
    target: Target


@dataclass(frozen=True, slots=True, kw_only=True)
class RouteMatch(Generic[Target]):
    target: Target
    route_params: dict[str, str]


def compile_route(template: str, target: Target) -> CompiledRoute[Target]:
    """Compile one template; ConfigurationError naming the template when it cannot be read."""
    parts: list[str] = []
    defaults: dict[str, str] = {}
    segments = [segment for segment in template.strip("/").split("/") if segment] if template.strip("/") else []
    literal_count = 0
    for position, segment in enumerate(segments):
        is_last = position == len(segments) - 1
        found = _PARAMETER.match(segment)
        if found is None:
            if "{" in segment or "}" in segment:
                raise ConfigurationError(f"route {template!r}: cannot read segment {segment!r}")
            literal_count += 1
            parts.append("/" + re.escape(segment))
            continue
        parts.append(_parameter_pattern(template, found, is_last, defaults))
    pattern = re.compile("^" + "".join(parts) + "/?$", re.IGNORECASE)
    return CompiledRoute(
        template=template, pattern=pattern, defaults=defaults, literal_count=literal_count, target=target
    )


def _parameter_pattern(template: str, found: re.Match[str], is_last: bool, defaults: dict[str, str]) -> str:
    name, rest = found["name"], found["rest"]
    if found["star"]:
        return f"(?:/(?P<{name}>.*))?"
    is_optional = rest.endswith("?")
    rest = rest.removesuffix("?")
    if "=" in rest:
        rest, _, default = rest.partition("=")
        defaults[name] = default
        is_optional = True
    body = r"[^/]+"
    for constraint in filter(None, rest.split(":")):
        constraint_name = constraint.split("(", 1)[0].lower()
        body = _CONSTRAINTS.get(constraint_name, body)
    if is_optional and not is_last:
        raise ConfigurationError(f"route {template!r}: only the last segment may be optional")
    segment = f"/(?P<{name}>{body})"
    return f"(?:{segment})?" if is_optional else segment


class RouteTable(Generic[Target]):
    """Compiled routes, most specific first."""

    def __init__(self, routes: Sequence[CompiledRoute[Target]]) -> None:
        self._routes = sorted(routes, key=lambda route: -route.literal_count)

    def match(self, path: str) -> list[RouteMatch[Target]]:
        """Every route matching `path` (the part after the route prefix), most specific first."""
        normalized = "/" + path.strip("/") if path.strip("/") else ""
        matches = []
        for route in self._routes:
            found = route.pattern.match(normalized)
            if found is None:
                continue
            params = dict(route.defaults)
            params.update({name: value for name, value in found.groupdict().items() if value is not None})
            matches.append(RouteMatch(target=route.target, route_params=params))
        return matches
