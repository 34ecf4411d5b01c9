"""The command line of `python -m verify`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Optional, Sequence

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # the service table (components/) from any working directory
    sys.path.insert(0, str(ROOT))

from verify import checks as checks_module  # noqa: E402
from verify import outputs as outputs_module  # noqa: E402
from verify import report, runner  # noqa: E402

EPILOG = """\
examples:
  venv/bin/python -m verify                          # the selected stack, after `pulumi up`
  venv/bin/python -m verify --stack homelab --json   # for machines
  ssh -N -L 15002:localhost:15002 lakehouse@192.168.10.31 &   # Spark Connect binds loopback on the master's host
  venv/bin/python -m verify --spark-connect sc://localhost:15002
  venv/bin/python -m verify --skip spark-connect     # without the tunnel
  venv/bin/python -m verify --only airflow --demo    # trigger the demo DAG and wait for it

exit codes: 0 every check passed, 1 a check failed, 2 the outputs or arguments are unusable.
"""


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m verify", epilog=EPILOG,
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                description="Prove that every service of a deployed lakehouse stack answers as its "
                                            "outputs say.")
    p.add_argument("--outputs", metavar="FILE",
                   help="stack outputs as JSON (`pulumi stack output --json --show-secrets`); `-` reads stdin; "
                        "default: run that command")
    p.add_argument("--stack", help="the stack to read the outputs of (default: the selected stack)")
    p.add_argument("--json", action="store_true", help="print the results as JSON (no table, no progress)")
    p.add_argument("--plain", action="store_true", help="plain text even where rich is installed")
    p.add_argument("--only", action="append", default=[], metavar="CHECK",
                   help="run only these checks (a service name selects all its checks; comma-separated or repeated)")
    p.add_argument("--skip", action="append", default=[], metavar="CHECK", help="leave these checks out")
    p.add_argument("--list", action="store_true", help="list the checks the outputs call for and exit")
    p.add_argument("--spark-connect", metavar="URL",
                   help="Spark Connect URL instead of the `sparkConnectUrl` output, e.g. the local end of an SSH "
                        "tunnel (sc://localhost:15002); the token is added from `sparkConnectToken`")
    p.add_argument("--demo", action="store_true", help="also trigger the demo DAG and wait for its run")
    p.add_argument("--demo-dag", default=checks_module.DEMO_DAG, help="the demo DAG's id (default: %(default)s)")
    p.add_argument("--demo-timeout", type=float, default=1800.0, metavar="SECONDS",
                   help="how long to wait for the demo run (default: %(default)s)")
    p.add_argument("--timeout", type=float, metavar="SECONDS", help="every check's timeout (default: per check)")
    p.add_argument("--workers", type=int, default=8, help="checks running at once (default: %(default)s)")
    return p


def _names(values: list[str]) -> list[str]:
    return [name.strip() for value in values for name in value.split(",") if name.strip()]


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parser().parse_args(argv)
    try:
        outputs = outputs_module.load(args.outputs, args.stack, cwd=ROOT)
    except outputs_module.OutputsError as error:
        print(f"verify: {error}", file=sys.stderr)
        return report.EXIT_USAGE
    options = checks_module.Options(spark_connect=args.spark_connect, demo=args.demo, demo_dag=args.demo_dag,
                                    demo_timeout=args.demo_timeout, timeout=args.timeout)
    try:
        planned = checks_module.select(checks_module.plan(outputs, options), _names(args.only), _names(args.skip))
    except ValueError as error:
        print(f"verify: {error}", file=sys.stderr)
        return report.EXIT_USAGE
    if args.list:
        for check in planned:
            print(f"{check.name}\t{check.timeout:.0f} s")
        return report.EXIT_OK

    fancy = not args.plain
    if args.json:
        results = runner.run(planned, workers=args.workers)
    else:
        with report.Progress(len(planned), fancy=fancy) as progress:
            results = runner.run(planned, progress.on_start, progress.on_done, workers=args.workers)
    results = [runner.Result(r.name, r.ok, outputs_module.redact(r.detail, outputs), r.seconds) for r in results]
    if args.json:
        print(report.to_json(results, args.stack))
    else:
        report.print_table(results, fancy=fancy)
    return report.exit_code(results)
