"""``make nbval-portable``: validate every notebook as another machine would.

Runs the same command as ``make nbval`` (``pytest --nbval`` with ``tests/nbval_sanitize.cfg``,
comparing every checked cell strictly with its stored output) once per numerical configuration
of ``course_tools/numeric_configs.py``, the configurations side by side, one process each (they use
one and three threads, so together they keep two cores busy). Each run's log is written to
``_build/nbval-portable/<config>.log`` and printed when it ends; the exit status is 1 if any
configuration fails. Usage::

    python course_tools/nbval_portable.py                        # every configuration
    python course_tools/nbval_portable.py --config sse-1thread   # one of them
    python course_tools/nbval_portable.py notebooks/02_backprop.ipynb
    python course_tools/nbval_portable.py --with-default         # and this machine's own, alongside

``--with-default`` adds a run under this machine's own configuration (what ``make nbval`` does)
to the runs side by side; ``make test`` uses it, because three runs side by side on two cores
finish sooner than the default run followed by the other two.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

from course_tools import course
from course_tools.numeric_configs import CONFIGS, environment

ROOT = course.root()
LOGS = ROOT / "_build" / "nbval-portable"
NBVAL = [
    "-m",
    "pytest",
    "--nbval",
    "--nbval-current-env",
    "--nbval-sanitize-with",
    "tests/nbval_sanitize.cfg",
    "-q",
    "-p",
    "no:cacheprovider",
    "-p",
    "course_tools.nbval_details",  # show the text of an unexpected output
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m course_tools nbval",
        description=__doc__.split("\n\n")[0],
    )
    parser.add_argument("notebooks", nargs="*", default=["notebooks"], help="default: notebooks")
    parser.add_argument(
        "--config", action="append", choices=["default", *sorted(CONFIGS)], help="repeatable"
    )
    parser.add_argument("--with-default", action="store_true", help="also run as make nbval")
    args = parser.parse_args(argv)
    names = (["default"] if args.with_default else []) + (args.config or list(CONFIGS))
    LOGS.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    running = {}
    for name in names:
        settings = " ".join(f"{k}={v}" for k, v in CONFIGS.get(name, {}).items()) or "as is"
        print(f"nbval under {name}: {settings}", flush=True)
        log = (LOGS / f"{name}.log").open("w", encoding="utf-8")
        proc = subprocess.Popen(
            [sys.executable, *NBVAL, *args.notebooks],
            cwd=ROOT,
            env=environment(name),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        running[name] = (proc, log)
    failed = []
    for name, (proc, log) in running.items():
        code = proc.wait()
        log.close()
        print(f"\n===== nbval under {name}: {'passed' if code == 0 else 'FAILED'}")
        print((LOGS / f"{name}.log").read_text(encoding="utf-8"))
        if code != 0:
            failed.append(name)
    seconds = time.perf_counter() - start
    if failed:
        print(f"nbval-portable: failed under {', '.join(failed)} ({seconds:.0f} s)")
        return 1
    print(f"nbval-portable: every notebook passed under {', '.join(names)} ({seconds:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
