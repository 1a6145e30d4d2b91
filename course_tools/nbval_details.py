"""A pytest plugin for nbval: say what a cell printed that its stored outputs do not have.

nbval reports an output the stored notebook lacks only by its kind ("Unexpected output fields
from running code: {'stderr'}"), which leaves a maintainer guessing at a warning that came and
went. With this plugin (``pytest -p course_tools.nbval_details``, as ``python -m course_tools
nbval`` runs it) the failure report also shows the text of every output of a kind that was not
stored.
"""

from __future__ import annotations

from nbval.plugin import IPyNbCell

_compare_outputs = IPyNbCell.compare_outputs


def _kind(output) -> str:
    return output.get("name") or output.get("output_type", "?")


def _text(output) -> str:
    if "text" in output:
        return str(output["text"])
    if "data" in output:
        return str(output["data"].get("text/plain", sorted(output["data"])))
    return str(output.get("evalue", output))


def compare_outputs(self, test, ref, skip_compare=None):
    """nbval's comparison, and the text of each output of a kind not in ``ref`` on failure."""
    same = _compare_outputs(self, test, ref, skip_compare)
    if not same:
        stored = {_kind(output) for output in ref}
        for output in test:
            if _kind(output) not in stored:
                self.comparison_traceback.append(
                    f"unexpected {_kind(output)} output:\n{_text(output)[:4000]}"
                )
    return same


IPyNbCell.compare_outputs = compare_outputs
