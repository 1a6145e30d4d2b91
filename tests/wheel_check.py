"""``make wheel-check``: the package as a learner installs it, tested outside the repository.

Colab runs ``pip install git+…``: a wheel, not an editable checkout, with no extras. This script
does the same on this machine, away from the source tree, so that nothing it checks can come
from the checkout:

1. builds the wheel and installs it, with ``constraints.txt`` and no extras, in a fresh virtual
   environment in a temporary folder;
2. checks that the install brought none of the instructor extra's packages (nbformat, nbclient,
   cloudpickle, markdown-it-py, pybtex) for ``ode_course`` (scikit-learn's joblib 1.6 requires
   cloudpickle itself: such a package is reported, with who requires it) and that
   ``ode_course`` is imported from that environment;
3. installs nbval and a kernel, and runs the import statements of every chapter's code cells;
4. validates notebooks against the installed package (chapters 1 and 6 by
   default, ``--all`` for every one) with ``tests/nbval_sanitize.cfg``, as ``make nbval`` does.

Usage: ``python tests/wheel_check.py [--all | NOTEBOOK ...] [--keep DIR]``.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from course_tools import notebook

ROOT = Path(__file__).resolve().parents[1]
INSTRUCTOR_ONLY = (
    "nbformat",
    "nbclient",
    "cloudpickle",
    "markdown_it",
    "mdit_py_plugins",
    "pybtex",
)
DEFAULT = ("01_chain_rule", "06_adjoint")


def run(*command: str | Path, cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        [str(c) for c in command], cwd=cwd, env=env, capture_output=True, text=True
    )
    if done.returncode != 0:
        sys.exit(f"wheel-check failed: {' '.join(map(str, command))}\n{done.stdout}{done.stderr}")
    return done.stdout


def required_by_others(python: Path, module: str, cwd: Path) -> list[str]:
    """The installed distributions other than ode_course that require ``module``'s."""
    shown = run(python, "-m", "pip", "show", module.replace("_", "-"), cwd=cwd)
    line = next((x for x in shown.splitlines() if x.startswith("Required-by:")), "")
    users = [u.strip() for u in line.partition(":")[2].split(",") if u.strip()]
    return [u for u in users if u.replace("-", "_") != "ode_course"]


def notebook_imports(path: Path) -> list[str]:
    """The import statements of a notebook's code cells, as source text."""
    return [ast.unparse(node) for node in notebook.imports(notebook.read(path).cells)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", help=f"stems (default: {', '.join(DEFAULT)})")
    parser.add_argument("--all", action="store_true", help="validate every chapter")
    parser.add_argument("--keep", type=Path, help="build in this folder and keep it")
    args = parser.parse_args(argv)
    chapters = sorted((ROOT / "notebooks").glob("*.ipynb"))
    chosen = (
        chapters
        if args.all
        else [ROOT / "notebooks" / f"{s}.ipynb" for s in args.notebooks or DEFAULT]
    )
    work = args.keep or Path(tempfile.mkdtemp(prefix="ode_course_wheel_"))
    work.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    try:
        wheels = work / "wheels"
        run(sys.executable, "-m", "pip", "wheel", ROOT, "--no-deps", "--no-build-isolation",
            "-q", "-w", wheels, cwd=work)  # fmt: skip
        (wheel,) = wheels.glob("ode_course-*.whl")
        venv = work / "venv"
        run(sys.executable, "-m", "venv", "--clear", venv, cwd=work)
        python = venv / "bin" / "python"
        pip = [python, "-m", "pip", "install", "-q", "--disable-pip-version-check"]
        run(*pip, "-c", ROOT / "constraints.txt", wheel, cwd=work)
        installed = time.perf_counter() - start
        probe = (
            "import importlib.util, json, ode_course\n"
            "print(json.dumps({'file': ode_course.__file__,"
            f" 'found': [m for m in {INSTRUCTOR_ONLY!r} if importlib.util.find_spec(m)]}}))"
        )
        seen = json.loads(run(python, "-c", probe, cwd=work))
        ours = [m for m in seen["found"] if not required_by_others(python, m, work)]
        if ours:
            sys.exit(f"wheel-check: a plain install brought instructor packages: {ours}")
        if not Path(seen["file"]).is_relative_to(venv):
            sys.exit(f"wheel-check: ode_course came from {seen['file']}, not the installed wheel")
        print(f"installed {wheel.name} without extras in {installed:.0f} s; none of "
              f"{', '.join(INSTRUCTOR_ONLY)} installed for ode_course")  # fmt: skip
        for module in seen["found"]:
            users = ", ".join(required_by_others(python, module, work))
            print(f"  ({module} is there because {users} requires it, not ode_course)")
        # a notebook runs in a Jupyter kernel, which brings IPython: install one, then import
        run(*pip, "-c", ROOT / "constraints.txt", "nbval", "ipykernel", "pytest", cwd=work)
        statements = sorted({s for path in chapters for s in notebook_imports(path)})
        run(python, "-c", "\n".join(statements), cwd=work)
        print(f"the {len(statements)} import statements of {len(chapters)} chapters ran")
        env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}  # figures inline
        for path in chosen:
            copy = work / "notebooks" / path.name  # beside no checkout: nothing to import by path
            copy.parent.mkdir(exist_ok=True)
            shutil.copy(path, copy)
        run(python, "-m", "pytest", "--nbval", "--nbval-current-env", "-q", "-p",
            "no:cacheprovider", "--rootdir", work, "--nbval-sanitize-with",
            ROOT / "tests" / "nbval_sanitize.cfg", *[work / "notebooks" / p.name for p in chosen],
            cwd=work, env=env)  # fmt: skip
        names = ", ".join(p.stem for p in chosen)
        print(f"nbval passed against the installed wheel: {names}")
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    print(f"wheel-check passed in {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
