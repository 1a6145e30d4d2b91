"""Start a grading step: ``python -I _boot.py ROOT STEP BOX``.

A file rather than ``python -c``: every frame of a step then lies in the grader's own files, so
the reference detection never mistakes the bootstrap (``<string>``) for the learner's code.
``ROOT`` (the package image, or the checkout when unsandboxed) goes first on ``sys.path``.
"""

import runpy
import sys

if __name__ == "__main__":
    sys.path.insert(0, sys.argv[1])
    sys.argv = sys.argv[1:]
    runpy.run_module("course_tools.grade.steps", run_name="__main__")
