"""The listeners of timer, queue and blob functions, one module per trigger type, run on every app process.

`durable-azure start` and `durable-azure worker` both run them, next to the worker: a queue's messages are
shared by every process polling it, a timer fires on one process only (a blob-lease singleton, as the
host's), a blob is processed once per version (receipts). Each listener starts with the host and stops
before the worker on Ctrl-C/SIGTERM, letting the invocation in progress finish; work not finished is left
where storage makes it visible again (queue message, receipt), so nothing is lost.

A listener module registers a factory for its trigger type; `functions/bindings` refuses, at indexing, any
trigger type without one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Protocol

from durable_azure.functions.indexing import InvocationServices, TriggeredFunction

logger = logging.getLogger(__name__)

STOP_TIMEOUT_SECONDS = 30.0
"""How long a stopping listener waits for invocations in progress (the worker gives activities as long)."""


class Listener(Protocol):
    """Runs one function's trigger until stopped."""

    def describe(self) -> str:
        """What the start-up listing shows after the function's name, e.g. "timerTrigger: 0 */5 * * * *"."""

    async def start(self) -> None:
        """Begin listening; storage set-up errors (a missing connection) are raised here, naming the function."""

    async def stop(self) -> None:
        """Stop listening and wait for invocations in progress; what is left unfinished stays in storage."""


ListenerFactory = Callable[[TriggeredFunction, InvocationServices], Listener]

_factories: dict[str, ListenerFactory] = {}
_checks: dict[str, Callable[[TriggeredFunction], object]] = {}
_display_names: dict[str, str] = {}


def register(
    trigger_type: str, factory: ListenerFactory, *, check: Callable[[TriggeredFunction], object] | None = None
) -> None:
    """`factory` builds the listener at start; `check`, if given, runs at indexing (ConfigurationError naming the
    function), so a mistake such as an invalid schedule stops `start` before storage is touched."""
    _factories[trigger_type.lower()] = factory
    _display_names[trigger_type.lower()] = trigger_type
    if check is not None:
        _checks[trigger_type.lower()] = check


def check_trigger(function: TriggeredFunction) -> None:
    """The indexing-time check of a function's trigger, where its listener module has one."""
    _load_listeners()
    check = _checks.get(function.trigger.kind)
    if check is not None:
        check(function)


def listener_for(function: TriggeredFunction, services: InvocationServices) -> Listener:
    _load_listeners()
    factory = _factories.get(function.trigger.kind)
    if factory is None:  # check_function refused it at indexing; reaching here is our bug
        raise AssertionError(f"no listener for trigger type {function.trigger.type!r}")
    return factory(function, services)


@contextlib.asynccontextmanager
async def run_listeners(
    functions: Sequence[TriggeredFunction], services: InvocationServices
) -> AsyncIterator[list[tuple[TriggeredFunction, Listener]]]:
    """Start a listener per function (all or none), and stop them in reverse order when the block ends."""
    started: list[tuple[TriggeredFunction, Listener]] = []
    try:
        for function in functions:
            listener = listener_for(function, services)
            await listener.start()
            started.append((function, listener))
            logger.info("trigger.started function=%s %s", function.name, listener.describe())
        yield started
    finally:
        for function, listener in reversed(started):
            try:
                await asyncio.wait_for(listener.stop(), STOP_TIMEOUT_SECONDS)
            except TimeoutError:
                logger.warning(
                    "trigger.stop_timeout function=%s: invocations still running after %.0f s are left; their "
                    "messages or blobs are processed again later",
                    function.name,
                    STOP_TIMEOUT_SECONDS,
                )
            except Exception:
                logger.exception("trigger.stop_failed function=%s", function.name)


def trigger_types() -> list[str]:
    """The trigger types with a listener here (besides HTTP and the Durable triggers the worker runs)."""
    _load_listeners()
    return sorted(_display_names.values())


def _load_listeners() -> None:
    """Import the listener modules, which register themselves (one line per module)."""
    from durable_azure.functions.triggers import blob, queue, timer  # noqa: F401


__all__ = ["Listener", "ListenerFactory", "check_trigger", "listener_for", "register", "run_listeners", "trigger_types"]
