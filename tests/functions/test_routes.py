"""Route templates of HTTP triggers, matched as the Functions host matches them."""

from __future__ import annotations

import pytest

from durable_azure.errors import ConfigurationError
from durable_azure.functions.routes import RouteTable, compile_route


def table(*templates: str) -> RouteTable[str]:
    return RouteTable([compile_route(template, template) for template in templates])


def first(routes: RouteTable[str], path: str) -> tuple[str, dict[str, str]] | None:
    matches = routes.match(path)
    return (matches[0].target, matches[0].route_params) if matches else None


def test_parameters_literals_and_case() -> None:
    routes = table("orchestrators/{functionName}/{instanceId?}")
    assert first(routes, "/orchestrators/hello") == (
        "orchestrators/{functionName}/{instanceId?}",
        {"functionName": "hello"},
    )
    assert first(routes, "Orchestrators/hello/abc/")[1] == {"functionName": "hello", "instanceId": "abc"}
    assert first(routes, "orchestrators") is None


def test_constraints_defaults_and_catch_all() -> None:
    routes = table("items/{id:int}", "pages/{name=home}", "files/{*path}")
    assert first(routes, "items/7")[1] == {"id": "7"}
    assert first(routes, "items/seven") is None
    assert first(routes, "pages")[1] == {"name": "home"}
    assert first(routes, "files/a/b/c.txt")[1] == {"path": "a/b/c.txt"}


def test_more_literal_segments_win_whatever_the_order() -> None:
    routes = table("orders/{id}", "orders/latest")
    assert first(routes, "orders/latest")[0] == "orders/latest"
    assert first(routes, "orders/12")[0] == "orders/{id}"


def test_empty_route_and_bad_templates() -> None:
    assert first(table(""), "/") is not None
    with pytest.raises(ConfigurationError, match="only the last segment"):
        compile_route("a/{x?}/b", "x")
    with pytest.raises(ConfigurationError, match="cannot read segment"):
        compile_route("a/{x/b", "x")
