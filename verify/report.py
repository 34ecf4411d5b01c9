"""What the user sees: progress on stderr while the checks run, then a table or JSON on stdout.

`rich` draws a live status and a table when it is installed (verify/requirements.txt) and the
stream is a terminal; otherwise the same information comes as plain lines.
"""

from __future__ import annotations

import json
import sys
from typing import Any, Optional, Sequence, TextIO

from verify.checks import Check
from verify.runner import Result

OK, FAILED = "ok", "FAILED"
EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def exit_code(results: Sequence[Result]) -> int:
    """0 when every check passed; 1 when any failed or none ran."""
    return EXIT_OK if results and all(r.ok for r in results) else EXIT_FAILED


def summary(results: Sequence[Result]) -> str:
    failed = sum(not r.ok for r in results)
    return f"{len(results) - failed} passed, {failed} failed"


def to_json(results: Sequence[Result], stack: Optional[str] = None) -> str:
    document: dict[str, Any] = {
        "ok": exit_code(results) == EXIT_OK,
        "passed": sum(r.ok for r in results),
        "failed": sum(not r.ok for r in results),
        "checks": [{"name": r.name, "service": r.service, "ok": r.ok, "seconds": round(r.seconds, 2),
                    "detail": r.detail} for r in results],
    }
    if stack:
        document["stack"] = stack
    return json.dumps(document, indent=2)


def plain_table(results: Sequence[Result]) -> str:
    rows = [("check", "result", "seconds", "detail")]
    rows += [(r.name, OK if r.ok else FAILED, f"{r.seconds:.1f}", r.detail) for r in results]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = ["  ".join(cell.ljust(widths[i]) if i < 3 else cell for i, cell in enumerate(row)).rstrip()
             for row in rows]
    return "\n".join([lines[0], "  ".join("-" * w for w in widths) + "  ------", *lines[1:], "", summary(results)])


def _rich() -> Any:
    try:
        import rich  # noqa: F401
        from rich import console, live, table, text
        return console, live, table, text
    except ImportError:
        return None


def print_table(results: Sequence[Result], stream: Optional[TextIO] = None, fancy: bool = True) -> None:
    stream = stream or sys.stdout
    modules = _rich() if fancy else None
    if modules is None:
        print(plain_table(results), file=stream)
        return
    console_module, _, table_module, text_module = modules
    table = table_module.Table(title="lakehouse verify", title_justify="left")
    table.add_column("check", no_wrap=True)
    table.add_column("result", no_wrap=True)
    table.add_column("s", justify="right", no_wrap=True)
    table.add_column("detail", overflow="fold")
    for r in results:
        table.add_row(r.name, text_module.Text(OK if r.ok else FAILED, style="green" if r.ok else "bold red"),
                      f"{r.seconds:.1f}", text_module.Text(r.detail))
    console = console_module.Console(file=stream, soft_wrap=False)
    console.print(table)
    console.print(summary(results), style="green" if exit_code(results) == EXIT_OK else "bold red")


class Progress:
    """`on_start`/`on_done` for the runner: a live line of what runs (rich, on a terminal) or plain lines."""

    def __init__(self, total: int, stream: Optional[TextIO] = None, fancy: bool = True):
        stream = stream or sys.stderr
        self.total, self.stream, self.done, self.running = total, stream, 0, []
        modules = _rich() if fancy and getattr(stream, "isatty", lambda: False)() else None
        self._live = None
        if modules:
            console_module, live_module, _, text_module = modules
            self._text = text_module
            self._console = console_module.Console(file=stream)
            self._live = live_module.Live(self._status(), console=self._console, transient=True,
                                          refresh_per_second=8)

    def __enter__(self) -> "Progress":
        if self._live:
            self._live.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._live:
            self._live.stop()

    def _status(self) -> Any:
        running = ", ".join(self.running) or "-"
        return self._text.Text(f"[{self.done}/{self.total}] running: {running}", style="dim")

    def on_start(self, check: Check) -> None:
        self.running.append(check.name)
        if self._live:
            self._live.update(self._status())
        else:
            print(f"[{self.done}/{self.total}] {check.name} ...", file=self.stream, flush=True)

    def on_done(self, result: Result) -> None:
        self.done += 1
        if result.name in self.running:
            self.running.remove(result.name)
        mark = OK if result.ok else FAILED
        line = f"[{self.done}/{self.total}] {result.name} {mark} ({result.seconds:.1f} s)"
        if self._live:
            self._console.print(self._text.Text(line, style="green" if result.ok else "red"))
            self._live.update(self._status())
        else:
            print(line, file=self.stream, flush=True)
