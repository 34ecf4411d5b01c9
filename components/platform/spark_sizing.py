"""How Spark's memory and cores are shared out: pure arithmetic on container limits and the `spark.*` keys.

Config validation and the Spark component both use it, so what is validated is what is rendered.

- A worker offers its container's memory less `WORKER_RESERVE_MB` (`--memory`) and `spark.workerCores`
  (`--cores`). The standalone master places an executor where `spark.executor.memory` and
  `spark.executor.cores` fit in what a worker still offers (the executor's non-heap is not counted,
  which is what the reserve is for).
- JupyterLab's driver heap (`spark.driver.memory`) is its container less `JUPYTER_RESERVE_MB`: the same
  container runs the JupyterLab server and the kernel. The Spark Connect server's driver heap is its
  container less `CONNECT_RESERVE_MB`.
- Spark refuses any executor or driver heap under `MIN_HEAP_MB`.
- The Connect server is one application that lives as long as its container and keeps its executors:
  `spark.cores.max` caps it at half the executors the workers can host (at least one), so JupyterLab's
  sessions always find the rest.
"""

from __future__ import annotations

from typing import Iterable

# Spark 4.1: "Executor memory ... must be at least 471859200" (1.5 x the 300 MiB it reserves); the same
# bound for a driver's heap ("System memory ... must be at least 471859200").
MIN_HEAP_MB = 450
# The worker JVM (256m heap, about 230 MiB resident), one executor's non-heap (150-250 MiB) and its
# Python workers (about 45 MiB each), measured with Spark 4.1.2.
WORKER_RESERVE_MB = 768
# The JupyterLab server, the ipykernel with PySpark, and the driver JVM's non-heap.
JUPYTER_RESERVE_MB = 768
# The Connect server driver's non-heap: metaspace, code cache, threads, gRPC and Netty buffers
# (about 300 MiB resident beyond a 768m heap, measured).
CONNECT_RESERVE_MB = 512


def worker_offer_mb(container_mb: int) -> int:
    return container_mb - WORKER_RESERVE_MB


def executors_per_worker(container_mb: int, worker_cores: int, executor_mb: int, executor_cores: int) -> int:
    return max(0, min(worker_offer_mb(container_mb) // executor_mb, worker_cores // executor_cores))


def executor_slots(worker_containers_mb: Iterable[int], worker_cores: int, executor_mb: int,
                   executor_cores: int) -> int:
    """How many executors all the workers can host at once."""
    return sum(executors_per_worker(mb, worker_cores, executor_mb, executor_cores) for mb in worker_containers_mb)


def connect_cores_max(slots: int, executor_cores: int) -> int:
    """The Connect server's `spark.cores.max`: half the executor slots (at least one executor)."""
    return max(1, slots // 2) * executor_cores


def jupyter_driver_mb(container_mb: int) -> int:
    return container_mb - JUPYTER_RESERVE_MB


def connect_driver_mb(container_mb: int) -> int:
    return container_mb - CONNECT_RESERVE_MB
