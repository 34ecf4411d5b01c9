"""Run checks at the same time, each under its own timeout.

Each check runs in a daemon thread; one that outlives its timeout is reported as failed and left
behind (a client stuck in retries, such as Spark Connect's, cannot hold up the report or the exit).
At most `workers` checks run at once.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass
from typing import Callable, Optional, Sequence

from verify.checks import Check, CheckFailed
from verify.outputs import MissingOutput

MAX_DETAIL = 300


@dataclass(frozen=True)
class Result:
    name: str
    ok: bool
    detail: str
    seconds: float

    @property
    def service(self) -> str:
        return self.name.split("/", 1)[0]


def describe(error: BaseException) -> str:
    if isinstance(error, (CheckFailed, MissingOutput)):
        return str(error)
    text = " ".join(str(error).split())
    # gRPC errors (Spark Connect) bury the server's answer in a multi-line repr: `details = "..."`.
    details = re.search(r'details = "([^"]*)"', text)
    if details:
        text = details.group(1)
    if len(text) > MAX_DETAIL:
        text = text[:MAX_DETAIL - 3] + "..."
    return f"{type(error).__name__}: {text}".rstrip(": ")


def run_one(check: Check) -> Result:
    outcome: dict[str, object] = {}
    started = time.monotonic()

    def target() -> None:
        try:
            outcome["detail"] = check.run()
        except BaseException as error:  # noqa: BLE001 - every failure becomes a result
            outcome["error"] = error

    worker = threading.Thread(target=target, name=f"check-{check.name}", daemon=True)
    worker.start()
    worker.join(check.timeout)
    seconds = time.monotonic() - started
    if worker.is_alive():
        return Result(check.name, False, f"no answer within {check.timeout:.0f} s", seconds)
    if "error" in outcome:
        return Result(check.name, False, describe(outcome["error"]), seconds)
    return Result(check.name, True, str(outcome.get("detail") or "ok"), seconds)


def run(checks: Sequence[Check], on_start: Optional[Callable[[Check], None]] = None,
        on_done: Optional[Callable[[Result], None]] = None, workers: int = 8) -> list[Result]:
    """Every check's result, in the order of `checks`."""
    results: dict[int, Result] = {}
    slots = threading.Semaphore(workers)
    lock = threading.Lock()

    def supervise(index: int, check: Check) -> None:
        with slots:
            if on_start:
                with lock:
                    on_start(check)
            result = run_one(check)
        with lock:
            results[index] = result
            if on_done:
                on_done(result)

    supervisors = [threading.Thread(target=supervise, args=(i, c), daemon=True) for i, c in enumerate(checks)]
    for supervisor in supervisors:
        supervisor.start()
    for supervisor in supervisors:
        supervisor.join()
    return [results[i] for i in range(len(checks))]
