"""Benchmarks for issue 5: `python -m bench [--quick] [--json PATH]` from the repository root.

Measures only; nothing here changes the runtime. Each workload runs on a fresh
task hub with its own worker, inside one process, against an Azurite this
harness starts in disk mode on loopback. Figures are medians over several runs
and ratios (to an Azurite bound measured in the same run, and to a DBOS
Transact peer run in a subprocess), never a single absolute time.
"""
