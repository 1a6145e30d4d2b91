"""What grading costs: the sandbox's overhead per notebook, and throughput with 1 and 2 jobs.

1. **Overhead.** One chapter's solved student edition is graded ``--repeats`` times in the
   bubblewrap sandbox and as many times without it (``sandbox=False``), alternating; the
   report gives the median wall time of each and their difference (the package image is built
   once, before, as in a grading run).
2. **Throughput.** A folder of ``--submissions`` copies of that edition (each with its own
   file name, so no two runs share anything) is graded with ``jobs=1`` and ``jobs=2``; the
   report gives notebooks per minute for each, and their ratio.

This is a measurement, not a test: run it on a quiet machine. Usage:

    python benchmarks/grading.py                      # chapter 1, 3 repeats, 40 submissions
    python benchmarks/grading.py --chapter 5 --submissions 10
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

from course_tools.course import chapters
from course_tools.editions import solved_edition
from course_tools.grade import grade_notebook, grade_submissions
from course_tools.grade.grader import _image


def solved_edition_of(number: int) -> dict:
    """The chapter's student edition with every solution typed into its answer cell."""
    path = next(p for p in chapters() if p.name.startswith(f"{number:02d}_"))
    return solved_edition(json.loads(path.read_text(encoding="utf-8")))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chapter", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--submissions", type=int, default=40)
    args = parser.parse_args()
    edition = solved_edition_of(args.chapter)
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores")
    _image()  # built once per grading run, as grade_submissions does
    with tempfile.TemporaryDirectory() as tmp:
        one = Path(tmp) / f"{args.chapter:02d}_one.ipynb"
        one.write_text(json.dumps(edition), encoding="utf-8")
        times: dict[bool, list[float]] = {True: [], False: []}
        for _ in range(args.repeats):
            for sandbox in (True, False):
                start = time.perf_counter()
                report = grade_notebook(one, seed=1, sandbox=sandbox)
                times[sandbox].append(time.perf_counter() - start)
                assert report.total == report.max > 0, report.summary()
        boxed, bare = statistics.median(times[True]), statistics.median(times[False])
        print(
            f"chapter {args.chapter}, one notebook, median of {args.repeats}: sandboxed "
            f"{boxed:.1f} s, unsandboxed {bare:.1f} s, overhead {boxed - bare:+.1f} s "
            f"({boxed / bare:.2f}x)"
        )
        folder = Path(tmp) / "class"
        folder.mkdir()
        for i in range(args.submissions):
            name = f"{args.chapter:02d}_student{i:03d}.ipynb"
            (folder / name).write_text(json.dumps(edition), encoding="utf-8")
        rates = {}
        for jobs in (1, 2):
            start = time.perf_counter()
            reports = grade_submissions(folder, seed=1, jobs=jobs, echo=False)
            seconds = time.perf_counter() - start
            assert all(r.total == r.max > 0 for r in reports)
            rates[jobs] = 60 * len(reports) / seconds
            print(f"{len(reports)} notebooks, jobs={jobs}: {seconds:.0f} s, {rates[jobs]:.1f}/min")
        print(f"2 jobs / 1 job: {rates[2] / rates[1]:.2f}x")


if __name__ == "__main__":
    main()
