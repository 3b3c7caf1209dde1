"""`python -m bench [--quick] [--json PATH] [--idle-seconds S] ...`: run the benchmarks, print a table, write JSON."""

from __future__ import annotations

import argparse
import asyncio
import logging
from pathlib import Path

from bench.report import render, to_json
from bench.runner import SPECS, run_all
from bench.sizes import FULL, QUICK


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description="durable-azure benchmarks (issue 5)")
    parser.add_argument("--quick", action="store_true", help="every workload at a small size (under 2 minutes)")
    parser.add_argument("--json", type=Path, default=Path("bench-results.json"), help="where to write the results")
    parser.add_argument("--idle-seconds", type=float, help="W5's idle period (default 300, 20 with --quick)")
    parser.add_argument("--repeats", type=int, help="runs per workload (default 3, 2 with --quick)")
    parser.add_argument("--only", help="comma-separated workloads, e.g. W1a,W4 (default: all)")
    parser.add_argument("--no-peer", action="store_true", help="skip the DBOS peer")
    parser.add_argument("--profile", type=Path, metavar="DIR", help="also write pyinstrument profiles of W1a and W4")
    parser.add_argument("--azurite-debug", type=Path, metavar="FILE", help="start Azurite with --debug FILE")
    return parser


def main(argv: list[str] | None = None) -> int:
    arguments = _parser().parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    sizes = (QUICK if arguments.quick else FULL).with_idle_seconds(arguments.idle_seconds)
    sizes = sizes.with_repeats(arguments.repeats)
    only = {key.strip() for key in arguments.only.split(",")} if arguments.only else None
    unknown = (only or set()) - {spec.key for spec in SPECS}
    if unknown:
        _parser().error(f"unknown workloads: {sorted(unknown)}")
    report = asyncio.run(
        run_all(
            sizes,
            quick=arguments.quick,
            only=only,
            with_peer=not arguments.no_peer,
            profile_dir=arguments.profile,
            azurite_debug_log=arguments.azurite_debug,
        )
    )
    print(render(report))
    arguments.json.write_text(to_json(report))
    print(f"results written to {arguments.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
