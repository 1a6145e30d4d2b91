"""Inside the submission's kernel: save the objects an exercise is graded on, with cloudpickle.

The runner inserts a call to :func:`save_answers` after each auto-graded check cell of the
notebook it executes (and once more at the end). The objects named in the exercise's
``grade.answer`` metadata are serialised one by one: functions and classes defined in the
notebook go *by value* (their code travels), objects imported from a package such as
``ode_course`` go *by reference* (only their module and name travel, so the scoring process
finds them as it imported them itself). Nothing is printed and nothing is scored here: the
kernel is the learner's, and whatever it prints or redefines cannot reach the score.

Example:
    >>> import pickle, tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "answers.pkl")
    >>> save_answers({"x": 3, "f": len}, ["x", "f", "y"], path)
    >>> saved = pickle.load(open(path, "rb"))
    >>> saved["x"][0], saved["f"][0], saved["y"][0]
    ('ok', 'ok', 'missing')
"""

from __future__ import annotations

import pickle
from collections.abc import Mapping, Sequence
from typing import Any

__all__: list[str] = []


def save_answers(namespace: Mapping[str, Any], names: Sequence[str], path: str) -> None:
    """Write ``{name: (status, payload)}`` for ``names`` of ``namespace`` to ``path``.

    ``status`` is ``"ok"`` (``payload`` is the cloudpickle of the object), ``"missing"`` (the
    name is not defined) or ``"error"`` (``payload`` says why the object could not be saved).
    """
    import cloudpickle  # imported here: the package itself does not need it at import time

    saved: dict[str, tuple[str, Any]] = {}
    for name in names:
        if name not in namespace:
            saved[name] = ("missing", None)
            continue
        try:
            saved[name] = ("ok", cloudpickle.dumps(namespace[name]))
        except Exception as exc:  # an object that cannot travel is scored as missing
            saved[name] = ("error", f"{type(exc).__name__}: {str(exc)[:200]}")
    with open(path, "wb") as f:
        pickle.dump(saved, f)
