"""`DFApp.build_registry()`: what the worker can run, under the names callers use."""

from __future__ import annotations

import pytest

import durable_azure as df
from durable_azure.errors import ConfigurationError


def test_orchestrators_and_activities_by_function_name() -> None:
    app = df.DFApp()

    def orchestrator_body(context):
        yield None

    def activity_body(city: str) -> str:
        return city

    app.orchestration_trigger(context_name="context")(orchestrator_body)
    app.activity_trigger(input_name="city")(activity_body)

    registry = app.build_registry()
    assert dict(registry.orchestrators) == {"orchestrator_body": orchestrator_body}
    assert list(registry.activities) == ["activity_body"]
    activity = registry.activities["activity_body"]
    assert activity.name == "activity_body"
    assert activity.function is activity_body
    assert activity.input_name == "city"


def test_decorator_names_win_over_function_names() -> None:
    app = df.DFApp()

    @app.orchestration_trigger(context_name="context", orchestration="Chain")
    def orchestrator(context):
        yield None

    @app.activity_trigger(input_name="value", activity="Double")
    def activity(value):
        return value

    registry = app.build_registry()
    assert set(registry.orchestrators) == {"Chain"}
    assert set(registry.activities) == {"Double"}


def test_function_name_decorator_names_the_activity() -> None:
    app = df.DFApp()

    @app.function_name("Greeter")
    @app.activity_trigger(input_name="city")
    def say_hello(city):
        return city

    assert set(app.build_registry().activities) == {"Greeter"}
    assert say_hello._durable_name == "Greeter"


def test_durable_name_lets_call_activity_take_the_function() -> None:
    app = df.DFApp()

    def say_hello(city):
        return city

    builder = app.activity_trigger(input_name="city", activity="Hello")(say_hello)
    assert say_hello._durable_name == "Hello"
    assert builder._durable_name == "Hello"


def test_blueprints_are_included() -> None:
    blueprint = df.Blueprint()

    @blueprint.orchestration_trigger(context_name="context")
    def from_blueprint(context):
        yield None

    @blueprint.activity_trigger(input_name="value")
    def blueprint_activity(value):
        return value

    app = df.DFApp()

    @app.activity_trigger(input_name="value")
    def app_activity(value):
        return value

    app.register_functions(blueprint)
    registry = app.build_registry()
    assert set(registry.orchestrators) == {"from_blueprint"}
    assert set(registry.activities) == {"app_activity", "blueprint_activity"}


def test_other_functions_are_not_registered() -> None:
    app = df.DFApp()

    @app.route(route="start")
    @app.durable_client_input(client_name="client")
    async def start(req, client):
        return None

    registry = app.build_registry()
    assert not registry.orchestrators
    assert not registry.activities


def test_duplicate_activity_names_are_an_error() -> None:
    app = df.DFApp()

    @app.activity_trigger(input_name="value", activity="Work")
    def first(value):
        return value

    @app.activity_trigger(input_name="value", activity="work")
    def second(value):
        return value

    with pytest.raises(ConfigurationError, match=r"activity.*'work'.*first.*second"):
        app.build_registry()


def test_duplicate_orchestrator_names_are_an_error() -> None:
    app = df.DFApp()

    @app.orchestration_trigger(context_name="context")
    def chain(context):
        yield None

    @app.orchestration_trigger(context_name="context", orchestration="chain")
    def other(context):
        yield None

    with pytest.raises(ConfigurationError, match="orchestrator"):
        app.build_registry()


def test_an_orchestrator_and_an_activity_may_share_a_name() -> None:
    app = df.DFApp()

    @app.orchestration_trigger(context_name="context", orchestration="Same")
    def orchestrator(context):
        yield None

    @app.activity_trigger(input_name="value", activity="Same")
    def activity(value):
        return value

    registry = app.build_registry()
    assert set(registry.orchestrators) == set(registry.activities) == {"Same"}


def test_build_registry_twice_gives_the_same_registry() -> None:
    app = df.DFApp()

    @app.activity_trigger(input_name="value")
    def activity(value):
        return value

    assert app.build_registry() == app.build_registry()
