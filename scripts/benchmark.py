"""Benchmark the program under mocks: wall time, peak memory and resource count per stack.

    python scripts/benchmark.py [--runs N]

Each case runs the real __main__.py through the test harness (no engine, no providers);
the time is the median over N runs (`x first`: relative to the first case), the memory the
peak traced Python allocation. Targets: the homelab stack under 1 s on 2 cores, the
10-worker variant under 2x the homelab stack.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from harness import run_stack, shipped_stacks  # noqa: E402

TEN_WORKERS = {"vms": [{"name": f"compute{i}", "vmId": 300 + i, "ip": f"192.168.10.{30 + i}", "memory": "32g"}
                       for i in (1, 2)],
               "spark": {"executorMemory": "512m"},
               "services": {"trino-worker": {"replicas": 10, "memory": "512m"},
                            "spark-worker": {"replicas": 10, "memory": "1792m", "hosts": ["compute2"]}}}
FIVE_VMS = {"vms": [{"name": f"compute{i}", "vmId": 300 + i, "ip": f"192.168.10.{30 + i}", "memory": "24g"}
                    for i in range(1, 6)],
            "services": {"trino-worker": {"replicas": 5}, "spark-worker": {"replicas": 5}}}
CASES: dict[str, tuple[str, dict]] = {
    **{f"{stack} (as shipped)": (stack, {}) for stack in sorted(shipped_stacks(), key=lambda s: s != "homelab")},
    "homelab, 10 Trino + 10 Spark workers": ("homelab", TEN_WORKERS),
    "homelab, 5 VMs, 5 + 5 workers": ("homelab", FIVE_VMS),
}


def measure(stack: str, overrides: dict, runs: int) -> tuple[float, float, int]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        run = run_stack(stack, overrides)
        times.append(time.perf_counter() - start)
        if run.error is not None:
            raise SystemExit(f"{stack}: {run.error}")
    tracemalloc.start()
    run = run_stack(stack, overrides)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return statistics.median(times), peak / 2**20, len(run.resources)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    run_stack(*next(iter(CASES.values())))  # warm imports
    print(f"{'case':40} {'median s':>9} {'x first':>8} {'peak MiB':>9} {'resources':>10}")
    first = None
    for case, (stack, overrides) in CASES.items():
        seconds, mib, count = measure(stack, overrides, runs)
        first = first or seconds
        print(f"{case:40} {seconds:9.3f} {seconds / first:8.2f} {mib:9.1f} {count:10d}")


if __name__ == "__main__":
    main()
