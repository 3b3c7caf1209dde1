"""The client's per-process sender: what its stamps chain over."""

from __future__ import annotations

from datetime import datetime

import pytest

from durable_azure.client.entity_client import _ProcessSender
from durable_azure.entities import MIN_TIME


async def test_a_scheduled_signal_is_not_named_as_the_next_ones_predecessor() -> None:
    sender = _ProcessSender()
    seen: list[tuple[datetime, datetime]] = []

    def sending(sequenced: bool):
        async def send(timestamp: datetime, predecessor: datetime) -> bool:
            seen.append((timestamp, predecessor))
            return sequenced

        return send

    await sender.send_in_order("hub|@counter@k", sending(True))
    await sender.send_in_order("hub|@counter@k", sending(False))  # scheduled: bypasses the receiver's sorter
    await sender.send_in_order("hub|@counter@k", sending(True))
    (first, _), (_, _), (third, after_scheduled) = seen
    assert seen[0][1] == MIN_TIME and after_scheduled == first and third > first


async def test_a_failed_send_leaves_the_chain_where_it_was() -> None:
    sender = _ProcessSender()
    stamps: list[tuple[datetime, datetime]] = []

    async def ok(timestamp: datetime, predecessor: datetime) -> bool:
        stamps.append((timestamp, predecessor))
        return True

    async def failing(timestamp: datetime, predecessor: datetime) -> bool:
        raise OSError("connection reset")

    await sender.send_in_order("d", ok)
    with pytest.raises(OSError):
        await sender.send_in_order("d", failing)
    await sender.send_in_order("d", ok)
    assert stamps[1][1] == stamps[0][0]
