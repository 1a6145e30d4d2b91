"""``python -m course_tools.grade SUBMISSIONS [--chapter N] [--csv scores.csv] [--timeout S]
[--seed K] [--jobs N] [--memory GiB] [--unsafe-no-sandbox]``: grade submitted notebooks, each in
its own sandbox, and print a summary per notebook."""

from __future__ import annotations

import argparse
import secrets
import sys

from course_tools.grade.grader import grade_submissions


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m course_tools.grade",
        description="Run each submitted notebook in a fresh kernel and score its exercises.",
    )
    parser.add_argument("submissions", help="a folder of .ipynb files, or one .ipynb")
    parser.add_argument("--chapter", type=int, help="the chapter (default: read from each)")
    parser.add_argument("--csv", help="write the scores to this CSV file")
    parser.add_argument(
        "--timeout", type=float, default=600.0, help="seconds per notebook (default 600)"
    )
    parser.add_argument(
        "--seed", type=int, help="seed of the randomised inputs (default: a new one, printed)"
    )
    parser.add_argument("--jobs", type=int, default=1, help="notebooks at once (default 1)")
    parser.add_argument(
        "--memory", type=float, default=8.0, help="GiB of address space per process (default 8)"
    )
    parser.add_argument(
        "--unsafe-no-sandbox",
        action="store_true",
        help="run student code without a sandbox, as you (only for notebooks you trust)",
    )
    args = parser.parse_args(argv)
    seed = args.seed if args.seed is not None else secrets.randbelow(2**31)
    print(f"grading with seed {seed} (repeat with --seed {seed})", flush=True)
    try:
        reports = grade_submissions(
            args.submissions,
            chapter=args.chapter,
            csv_path=args.csv,
            timeout=args.timeout,
            seed=seed,
            jobs=args.jobs,
            sandbox=not args.unsafe_no_sandbox,
            memory=int(args.memory * 2**30),
        )
    except (FileNotFoundError, RuntimeError, ValueError, TypeError) as exc:
        print(exc, file=sys.stderr)
        return 2
    total = sum(r.total for r in reports)
    best = sum(r.max for r in reports)
    graded = [r for r in reports if not r.not_graded]
    print(
        f"{len(graded)} notebook(s) graded, {len(reports) - len(graded)} file(s) not graded: "
        f"{total}/{best} points in all"
    )
    if args.csv:
        print(f"wrote {args.csv}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
