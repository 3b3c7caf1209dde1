"""How big each workload is, for a full run and for `--quick`."""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True, slots=True, kw_only=True)
class Sizes:
    """Workload sizes and repetitions. The full sizes are the ones issue 5 names."""

    repeats: int = 3
    # Untimed runs of each workload first (ours and the peer's): a fresh Azurite runs its first few thousand
    # requests slower (V8 has not optimised them yet), and the bound is measured on a warm one.
    warmup_runs: int = 2
    w1_instances: int = 200
    w1_latency_samples: int = 15
    w2_activities: int = 1000
    w3_latency_samples: int = 8
    w3_events: int = 300
    w4_activities: int = 1000
    w5_idle_seconds: float = 300.0
    # W8: instances started and left waiting on an event; events then raised to some of them (half reloaded
    # from history), and a tracemalloc-traced sample of further instances for the per-instance breakdown.
    w8_instances: int = 10_000
    w8_events: int = 100
    w8_memory_sample: int = 200
    # W6: messages waiting on a queue, each starting one hello sequence from the queue trigger.
    w6_messages: int = 2000
    # W9: how long a 1-second timer runs; each second is one lateness sample.
    w9_seconds: float = 20.0
    # W7: signals to one counter entity; and many counters with a few signals each.
    w7_signals: int = 1000
    w7_entities: int = 100
    w7_signals_per_entity: int = 10
    bound_requests: int = 800
    bound_concurrencies: tuple[int, ...] = (16, 64)
    # Generous ceilings that only stop a hung run; never part of any figure.
    run_timeout_seconds: float = 600.0

    def w2_standing_messages(self) -> int:
        """W2's work-item queue drains from `w2_activities` messages to none: half of them stand on average.

        Azurite's cost per queue request grows linearly with the messages stored,
        and W2's requests fall evenly over that drain, so their mean cost is the
        cost at half the fan-out.
        """
        return self.w2_activities // 2

    def w6_standing_messages(self) -> int:
        """W6's trigger queue drains from `w6_messages` to none: half of them stand on average."""
        return self.w6_messages // 2

    def w7_standing_messages(self) -> int:
        """W7a's control queue drains from `w7_signals` messages to none: half of them stand on average."""
        return self.w7_signals // 2

    def w7b_standing_messages(self) -> int:
        """W7b's control queues drain from all its signals to none."""
        return self.w7_entities * self.w7_signals_per_entity // 2

    def with_idle_seconds(self, seconds: float | None) -> Sizes:
        return self if seconds is None else replace(self, w5_idle_seconds=seconds)

    def with_repeats(self, repeats: int | None) -> Sizes:
        return self if repeats is None else replace(self, repeats=repeats)


FULL = Sizes()

QUICK = Sizes(
    repeats=2,
    warmup_runs=1,
    w1_instances=40,
    w1_latency_samples=6,
    w2_activities=200,
    w3_latency_samples=3,
    w3_events=60,
    w4_activities=150,
    w5_idle_seconds=20.0,
    w8_instances=500,
    w8_events=20,
    w8_memory_sample=100,
    w6_messages=200,
    w9_seconds=8.0,
    w7_signals=300,
    w7_entities=30,
    w7_signals_per_entity=10,
    bound_requests=250,
    run_timeout_seconds=120.0,
)

# The smoke test's size: exercises every code path in seconds.
TINY = Sizes(
    repeats=1,
    warmup_runs=0,
    w1_instances=5,
    w1_latency_samples=2,
    w2_activities=10,
    w3_latency_samples=2,
    w3_events=5,
    w4_activities=10,
    w5_idle_seconds=2.0,
    w8_instances=20,
    w8_events=4,
    w8_memory_sample=10,
    w6_messages=10,
    w9_seconds=3.0,
    w7_signals=20,
    w7_entities=4,
    w7_signals_per_entity=5,
    bound_requests=60,
    run_timeout_seconds=60.0,
)
