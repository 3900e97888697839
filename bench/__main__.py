"""Run the benchmarks: python -m bench [NAME ...] [--quick] [--compare] [--save-baseline].

Each benchmark prints the machine, its parameters and a table, and writes its figures to
bench/results/NAME.json. --compare prints every figure beside bench/baseline.json and exits 1
when any got more than 20% worse; --save-baseline makes this run the new baseline.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from bench import common

BENCHES = [
    "checkout",
    "middleware",
    "stack",
    "workers",
    "lookups",
    "health",
    "reports",
    "memory",
    "till",
    "worker",
    "journal",
    "offline",
    "fiscal",
    "sale",
    "pay",
]

# The benchmarks that take --profile.
PROFILED = ("checkout", "stack", "workers", "sale", "pay")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument(
        "names",
        nargs="*",
        metavar="NAME",
        help=f"which benchmarks (default: all of {', '.join(BENCHES)})",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smaller sizes and shorter runs, to try the benchmark out",
    )
    parser.add_argument(
        "--compare",
        action="store_true",
        help="compare with bench/baseline.json; exit 1 if any got >20%% worse",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="checkout, stack, workers: sample a gunicorn worker with py-spy and print the top; "
        "sale: sample the bench's own process",
    )
    parser.add_argument(
        "--instructions",
        action="store_true",
        help="sale: also count the instructions per sale with valgrind's callgrind",
    )
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="journal: time the check alone on the journal an earlier run seeded (kept)",
    )
    parser.add_argument(
        "--save-baseline", action="store_true", help="make this run's figures the baseline"
    )
    args = parser.parse_args(argv)
    for name in args.names:
        if name not in BENCHES:
            parser.error(f"unknown benchmark {name!r}; choose from {', '.join(BENCHES)}")
    if args.reuse and args.names != ["journal"]:
        parser.error("--reuse is for `journal` alone (the other benchmarks re-create the database)")
    common.use_bench_services()
    worse = 0
    for name in args.names or BENCHES:
        module = importlib.import_module(f"bench.{name}")
        options = {"profile": True} if args.profile and name in PROFILED else {}
        if args.reuse and name == "journal":
            options = {"reuse": True}
        if args.instructions and name == "sale":
            options["instructions"] = True
        figures, parameters = module.run(quick=args.quick, **options)
        common.save(name, figures, {**parameters, "quick": args.quick})
        if args.compare:
            worse += common.compare(name, figures)
        if args.save_baseline:
            common.save_baseline(name)
        sys.stdout.flush()
    return 1 if worse else 0


if __name__ == "__main__":
    os.chdir(common.BASE_DIR)
    sys.exit(main())
