"""`python -m bench [scenario ...] [--quick] [--n N ...]`: run scenarios, print tables, write
bench/results/<scenario>.json. Default: fanout taskpush ingest wall cost (wall_soak only when
named)."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import time
from pathlib import Path

from bench import harness

SCENARIOS = {
    "fanout": "bench.scenarios.fanout",
    "taskpush": "bench.scenarios.taskpush",
    "ingest": "bench.scenarios.ingest",
    "wall": "bench.scenarios.wall",
    "cost": "bench.scenarios.cost",
    "wall_soak": "bench.scenarios.soak",
}
DEFAULT = ["fanout", "taskpush", "ingest", "wall", "cost"]


def env_item(item: str) -> tuple[str, str]:
    """`--server-env NAME=VALUE` as (NAME, VALUE); argparse turns the error into a message."""
    name, sep, value = item.partition("=")
    if not (sep and name.isidentifier()):
        raise argparse.ArgumentTypeError(f"takes NAME=VALUE, got {item!r}")
    return name, value


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    p.add_argument(
        "scenarios",
        nargs="*",
        metavar="scenario",
        help=f"one or more of {', '.join(SCENARIOS)} (default: {' '.join(DEFAULT)})",
    )
    p.add_argument("--quick", action="store_true", help="small N, a few seconds per case")
    p.add_argument("--n", type=int, action="append", help="connections/reporters (repeatable)")
    p.add_argument("--servers", action="append", help="fanout: only these servers (repeatable)")
    p.add_argument(
        "--walls",
        type=int,
        action="append",
        help="cost: only the walls curve, at these counts (repeatable)",
    )
    p.add_argument(
        "--profile",
        action="store_true",
        help="py-spy the server in each main measurement (bench/results/profiles/)",
    )
    p.add_argument(
        "--probes", type=int, help="wall: probe tasks per case (default 200; 16 with --quick)"
    )
    p.add_argument(
        "--split",
        action="store_true",
        help="wall: also time each probe's stages (server through serve_whatif livetrace, "
        "the page's message handler): where the latency goes",
    )
    p.add_argument("--out", help="write results here instead of bench/results (development)")
    p.add_argument("--minutes", type=float, default=30.0, help="wall_soak: how long")
    p.add_argument(
        "--warmup",
        type=float,
        default=0.0,
        help="wall_soak: minutes of demo before measuring (the lists fill in ~20 at demo speed)",
    )
    p.add_argument(
        "--rate",
        type=float,
        default=1.0,
        help="wall_soak: the demo's speed (10: ten minutes of news a minute)",
    )
    p.add_argument(
        "--server-env",
        action="append",
        default=[],
        type=env_item,
        metavar="NAME=VALUE",
        help="wall_soak: set this in the server's environment only, not Chromium's (repeatable; "
        "e.g. PYTHONMALLOC=malloc to try another allocator)",
    )
    p.add_argument(
        "--snapshots",
        action="store_true",
        help="wall_soak: also split the JS heap by two heap snapshots (a snapshot changes the "
        "renderer's memory: docs/performance.md, Wall soak)",
    )
    opts = p.parse_args(argv)
    unknown = [s for s in opts.scenarios if s not in SCENARIOS]
    if unknown:
        p.error(f"unknown scenario {', '.join(unknown)}; choose from {', '.join(SCENARIOS)}")
    if opts.out:
        harness.RESULTS = Path(opts.out).resolve()
    harness.raise_nofile()
    harness.pin(os.getpid(), harness.LOAD_CPUS)  # the load side; servers get their own core
    failed = []
    for name in opts.scenarios or DEFAULT:
        started = time.monotonic()
        harness.log(f"=== {name} ===")
        try:
            importlib.import_module(SCENARIOS[name]).run(opts)
        except Exception as exc:  # report and go on with the next scenario
            harness.log(f"{name} failed: {exc!r}")
            failed.append(name)
        harness.log(f"=== {name} done in {time.monotonic() - started:.0f} s ===")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
