"""`python -m bench`: xadapt side by side with the tools a user would pick instead.

    python -m bench                       # every timed case and the sweep, 3 repetitions (about 17 min on 2 CPU cores)
    python -m bench --cases perplexity    # what the MLM head's corpus vocabulary costs in perplexity (about 4 min)
    python -m bench --quick               # tiny workloads, 1 repetition: checks that everything still runs
    python -m bench --cases mlm,lora --reps 5

Writes bench/results/<date>-<machine>.json and .md (or under --out). Needs the peer environment
(`bash tests/peer/setup_peer_env.sh`) and the benchmark data ($XADAPT_DATA).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from bench import suite


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny workloads and one repetition (CI)")
    parser.add_argument("--cases", default=",".join(suite.DEFAULT_CASES),
                        help=f"comma-separated, from {', '.join(suite.CASE_IDS)} (default: all but perplexity)")
    parser.add_argument("--reps", type=int, default=None, help="timed repetitions per case (default 3; 1 with --quick)")
    parser.add_argument("--out", type=Path, default=suite.RESULTS, help="where the JSON and Markdown go")
    args = parser.parse_args(argv)
    selected = [c for c in args.cases.replace(" ", "").split(",") if c]
    unknown = sorted(set(selected) - set(suite.CASE_IDS))
    if unknown or not selected:
        parser.error(f"unknown cases {unknown}; choose from {', '.join(suite.CASE_IDS)}")
    reps = args.reps if args.reps is not None else (1 if args.quick else 3)
    if reps < 1:
        parser.error("--reps must be at least 1")
    start = time.perf_counter()
    data, table = suite.run(selected, reps, suite.QUICK if args.quick else suite.FULL, args.out)
    print(table.read_text(encoding="utf-8"))
    print(f"wrote {data} and {table} in {(time.perf_counter() - start) / 60:.1f} min")
    return 0


if __name__ == "__main__":
    sys.exit(main())
