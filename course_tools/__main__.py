"""``python -m course_tools [--root PATH] COMMAND [ARGS...]``: the instructors' and maintainers'
command line. ``python -m course_tools --help`` lists the commands."""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys

from course_tools import course

COMMANDS: dict[str, tuple[str, str]] = {
    "grade": ("course_tools.grade.__main__", "score submitted notebooks (CSV)"),
    "gradescope": ("course_tools.gradescope", "build a chapter's Gradescope autograder zip"),
    "student": ("course_tools.editions", "write or --check the student editions"),
    "answer-key": ("course_tools.editions", "write the instructors' answer key"),
    "guide": ("course_tools.guide", "rewrite book/instructors.md"),
    "reference": ("course_tools.reference_pages", "write or --check the reference pages"),
    "links": ("course_tools.links", "rewrite the repository links from _config.yml"),
    "outputs": ("course_tools.store_outputs", "re-execute notebooks and store their outputs"),
    "nbval": ("course_tools.nbval_portable", "validate stored outputs under numeric configs"),
    "compare-outputs": ("course_tools.compare_outputs", "compare two runs' text outputs"),
}
"""Command name: (module whose ``main(argv)`` runs it, what it does)."""

_INSTRUCTOR_MODULES = (
    "nbformat",
    "nbclient",
    "cloudpickle",
    "yaml",
    "markdown_it",
    "mdit_py_plugins",
    "pybtex",
)
"""What the ``instructor`` extra installs, by import name."""


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(
        prog="python -m course_tools",
        description="Tools for instructors and maintainers of the course.",
        epilog="commands:\n"
        + "\n".join(f"  {name:16s} {what}" for name, (_, what) in COMMANDS.items()),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--root", help="the course checkout (default: found from here upwards)")
    parser.add_argument("command", choices=sorted(COMMANDS), metavar="COMMAND")
    parser.add_argument("args", nargs=argparse.REMAINDER, help="the command's arguments")
    args = parser.parse_args(argv)
    missing = [name for name in _INSTRUCTOR_MODULES if importlib.util.find_spec(name) is None]
    if missing:
        print(
            f"course_tools needs the instructor extra; missing: {', '.join(missing)}. "
            'Fix: pip install -e ".[instructor]" in the course checkout.',
            file=sys.stderr,
        )
        return 2
    try:
        course.set_root(args.root)
    except FileNotFoundError as exc:
        print(exc, file=sys.stderr)
        return 2
    module = importlib.import_module(COMMANDS[args.command][0])
    rest = list(args.args)
    if args.command == "answer-key":
        return int(module.main_answer_key(rest))
    if args.command == "student":
        return int(module.main_student(rest))
    return int(module.main(rest))


if __name__ == "__main__":
    sys.exit(main())
