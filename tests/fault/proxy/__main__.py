"""`python -m tests.fault.proxy --help`: the fault proxy in front of an Azurite, by hand.

Parses arguments and runs a FaultProxy until Ctrl-C; the proxy's logic lives in server.py and plan.py.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging

from tests.fault.proxy.plan import FaultPlan, ServicePorts
from tests.fault.proxy.server import FaultProxy


def _parse_ports(text: str) -> ServicePorts:
    blob, queue, table = (int(port) for port in text.split(","))
    return ServicePorts(blob=blob, queue=queue, table=table)


def _parse_plan(arguments: argparse.Namespace) -> FaultPlan:
    rates = {fault: float(rate) for fault, _, rate in (text.partition("=") for text in arguments.rate)}
    kind_rates: dict[str, dict[str, float]] = {}
    for text in arguments.kind_rate:
        kind, _, fault_and_rate = text.partition(":")
        fault, _, rate = fault_and_rate.partition("=")
        kind_rates.setdefault(kind, {})[fault] = float(rate)
    return FaultPlan(rates=rates, kind_rates=kind_rates, seed=arguments.seed)


async def _serve_until_interrupted(proxy: FaultProxy) -> None:
    async with proxy:
        print(proxy.connection_string, flush=True)
        try:
            await asyncio.Event().wait()
        finally:
            print(proxy.statistics().summary(), flush=True)


def main(argv: list[str] | None = None) -> None:
    """Put the proxy in front of an Azurite by hand; prints the connection string, and statistics on Ctrl-C."""
    parser = argparse.ArgumentParser(prog="python -m tests.fault.proxy", description=main.__doc__)
    parser.add_argument("--upstream", required=True, help="Azurite's blob,queue,table ports, e.g. 10000,10001,10002")
    parser.add_argument("--upstream-host", default="127.0.0.1")
    parser.add_argument("--ports", default="0,0,0", help="the proxy's blob,queue,table ports (0: a free one)")
    parser.add_argument("--rate", action="append", default=[], metavar="FAULT=RATE", help="for every kind")
    parser.add_argument("--kind-rate", action="append", default=[], metavar="KIND:FAULT=RATE", help="for one kind")
    parser.add_argument("--seed", type=int, default=0)
    arguments = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    proxy = FaultProxy(
        _parse_ports(arguments.upstream),
        _parse_plan(arguments),
        upstream_host=arguments.upstream_host,
        ports=_parse_ports(arguments.ports),
    )
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve_until_interrupted(proxy))


if __name__ == "__main__":
    main()
