"""Sender stamps and the receiving sorter, without storage: each request is delivered once, and none waits
for a predecessor its receiver can no longer know about."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from durable_azure.entities import MIN_TIME, REORDER_WINDOW, OutgoingStamps, RequestMessage, next_stamp
from durable_azure.entities.messages import CHAIN_WINDOW
from durable_azure.entities.scheduler_state import MessageSorter

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _request(number: int, timestamp: datetime, predecessor: datetime) -> RequestMessage:
    return RequestMessage(
        id=f"r{number}",
        operation="add",
        is_signal=True,
        parent="client:one",
        timestamp=timestamp,
        predecessor=predecessor,
    )


def test_a_recent_previous_request_is_the_predecessor() -> None:
    timestamp, predecessor = next_stamp(T0, T0 + timedelta(seconds=1))
    assert (timestamp, predecessor) == (T0 + timedelta(seconds=1), T0)


def test_the_timestamp_follows_the_previous_one_even_when_the_clock_does_not() -> None:
    timestamp, _ = next_stamp(T0, T0 - timedelta(seconds=5))
    assert timestamp == T0 + timedelta(microseconds=1)


def test_a_previous_request_older_than_the_chain_window_is_not_named() -> None:
    timestamp, predecessor = next_stamp(T0, T0 + CHAIN_WINDOW)
    assert predecessor == MIN_TIME and timestamp == T0 + CHAIN_WINDOW
    assert OutgoingStamps({"@counter@k": T0}).stamp("@counter@k", T0 + REORDER_WINDOW)[1] == MIN_TIME


def test_out_of_order_requests_are_delivered_in_order_and_copies_dropped() -> None:
    sorter = MessageSorter()
    first = _request(1, *next_stamp(MIN_TIME, T0))
    second = _request(2, *next_stamp(first.timestamp, T0 + timedelta(seconds=1)))
    now = T0 + timedelta(seconds=2)
    assert sorter.receive(second, now) == []
    assert [request.id for request in sorter.receive(first, now)] == ["r1", "r2"]
    assert sorter.receive(first, now) == [] and sorter.receive(second, now) == []


def test_a_request_after_the_sender_was_forgotten_is_delivered_on_arrival() -> None:
    """The entity forgets a sender idle for the reorder window; the sender's next request must not then wait
    the whole window for a predecessor that was delivered long ago."""
    sorter = MessageSorter()
    first = _request(1, *next_stamp(MIN_TIME, T0))
    assert sorter.receive(first, T0) == [first]
    later = T0 + REORDER_WINDOW + timedelta(minutes=1)
    sorter.forget_idle(later)
    assert sorter.received == {}
    second = _request(2, *next_stamp(first.timestamp, later))
    assert sorter.receive(second, later) == [second]
