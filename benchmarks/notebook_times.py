"""Execute each notebook in a fresh kernel and print its wall-clock time and the total.

This is how chapter time budgets are measured (it is not a test). Times include starting the
kernel. Usage:

    python benchmarks/notebook_times.py                 # every notebook in notebooks/
    python benchmarks/notebook_times.py notebooks/01_chain_rule.ipynb
    python benchmarks/notebook_times.py --json times.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
MACHINE = f"a {os.cpu_count()}-core CPU (Python {platform.python_version()})"


def time_notebook(path: Path, timeout: int = 1800) -> float:
    """Seconds to execute ``path`` top to bottom in a new kernel (outputs are discarded)."""
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    start = time.perf_counter()
    client.execute()
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description="Time each notebook's execution.")
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: notebooks/*.ipynb")
    parser.add_argument(
        "--json",
        type=Path,
        help="also write the times to this JSON file (with notebooks named, update their entries)",
    )
    args = parser.parse_args()
    paths = args.notebooks or sorted((ROOT / "notebooks").glob("*.ipynb"))
    print(f"measuring on {MACHINE}")
    times = {}
    for path in paths:
        seconds = time_notebook(path)
        times[path.stem] = round(seconds, 1)
        print(f"{path.stem:<24} {seconds:7.1f} s", flush=True)
    total = sum(times.values())
    print(f"{'total':<24} {total:7.1f} s")
    if args.json:
        if args.notebooks and args.json.exists():  # measure some chapters, keep the others
            kept = json.loads(args.json.read_text())["seconds"]
            times = {**kept, **times}
            total = sum(times.values())
        args.json.write_text(
            json.dumps({"machine": MACHINE, "seconds": times, "total": round(total, 1)}, indent=2)
            + "\n"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
