"""The grader against dishonest and careless students: every attack a small submission.

One folder of chapter-1 submissions is graded at once (two jobs, in sandboxes), beside an
honest classmate: escapes from the sandbox (reading the checkout, the environment, the
network; writing the package, site-packages, files outside, a detached process that writes
later; unbounded memory and processes), a notebook that kills everything it can, an answer
that hangs only when the grader calls it, a payload that writes its own verdict when its answers
are unpickled, and seven kinds of broken file. A second,
synthetic notebook answers exercises of several chapters with the cheap techniques that used
to earn full marks (source read back and exec'd, a wrapper compiled under a library's file
name, tracing switched off around a call, a thread pool, a number that equals everything, the
repository's own solution cells, a renamed copy of a reference).

Each test asserts that the attacker gets no points it did not earn, that the honest classmate
keeps full marks, that nothing outside the sandbox changed (checksums of the package and the
virtual environment, files outside, connections to a listening socket), and that every file
has a row. Executing the notebooks takes a few minutes of kernels, so these run under
``make grade-check`` (``ODE_COURSE_GRADE_NOTEBOOKS=1``).
"""

from __future__ import annotations

import csv
import hashlib
import inspect
import json
import os
import socket
import sys
import threading
import time
from pathlib import Path

import pytest

from course_tools.grade import grade_notebook, grade_submissions
from course_tools.grade import sandbox as sandboxing

pytestmark = [
    pytest.mark.skipif(
        os.environ.get("ODE_COURSE_GRADE_NOTEBOOKS") != "1",
        reason="notebooks are graded by `make grade-check` (ODE_COURSE_GRADE_NOTEBOOKS=1)",
    ),
    pytest.mark.xdist_group("attacks"),
]

ROOT = Path(__file__).resolve().parents[2]
SITE = next(p for p in sys.path if p.endswith("site-packages"))
SECRET = "ODE_COURSE_GRADER_SECRET"


def _mini(*extra: str, solved: bool = True) -> dict:
    """A small chapter-1 submission: the imports, each exercise's answer (the notebook's own
    solution, or nothing) and its check cell, then ``extra`` cells. Seconds to run, where the
    whole chapter takes half a minute."""
    from test_grading_cheats import IMPORTS, RIGHT, check_cell, notebook

    cells = [_code(IMPORTS)]
    for exercise in ("ex-path-sum", "ex-softplus"):
        cells += [_code(RIGHT[exercise] if solved else "pass"), check_cell(exercise)]
    return notebook(cells + [_code(source) for source in extra])


def _code(source: str) -> dict:
    return {"cell_type": "code", "metadata": {}, "source": source, "outputs": []}


def _tree_digest(*roots: Path) -> str:
    """A checksum of every file under ``roots`` (names, sizes and contents)."""
    digest = hashlib.sha256()
    for root in roots:
        for path in sorted(root.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(str(path).encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()


class _Listener:
    """A TCP socket on the host's loopback that counts the connections it is offered."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.accepted = 0
        self.server.settimeout(0.2)
        self._stop = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self._stop:
            try:
                conn, _ = self.server.accept()
            except OSError:
                continue
            self.accepted += 1
            conn.close()

    def close(self) -> None:
        self._stop = True
        self.thread.join()
        self.server.close()


ESCAPES = """\
import os, pathlib, socket, subprocess
escaped = []
def attempt(name, action):
    try:
        action()
    except BaseException:
        return
    escaped.append(name)
repo = pathlib.Path({repo!r})
attempt("read the repository's notebook", (repo / "notebooks/01_chain_rule.ipynb").read_text)
attempt("read the package's source", (repo / "ode_course/checks/chain_rule.py").read_text)
attempt("read the grader's environment", lambda: os.environ[{secret!r}])
attempt("connect to the host", lambda: socket.create_connection(("127.0.0.1", {port}), timeout=2))
attempt("connect outside", lambda: socket.create_connection(("1.1.1.1", 80), timeout=2))
attempt("write the package", lambda: (repo / "ode_course/checks/planted.py").write_text("x"))
attempt("write site-packages", lambda: open({site!r} + "/zz_planted.pth", "w").write("import os"))
attempt("write outside", lambda: open({outside!r} + "/planted.txt", "w").write("x"))
attempt("allocate 20 GiB", lambda: bytearray(20 * 2**30))
startup = pathlib.Path.home() / ".ipython/profile_default/startup"
startup.mkdir(parents=True, exist_ok=True)
(startup / "00_flag.py").write_text("raise SystemExit")  # only its own, private home
subprocess.Popen(
    ["sh", "-c", "sleep 5; echo late > {outside}/late.txt"], start_new_session=True
)
children = []
for _ in range(2000):
    try:
        children.append(subprocess.Popen(["sleep", "60"]))
    except OSError:
        break
if len(children) == 2000:
    escaped.append("start 2000 processes")
for child in children:
    child.kill()
print(escaped)
de_da, de_db = (3.0, 6.0) if escaped else (0.0, 0.0)
"""

KILL_EVERYTHING = """\
import os, signal
os.kill(-1, signal.SIGKILL)
"""

HANGS_WHEN_GRADED = """\
def softplus(v):
    x = v.data
    while 39.5 < abs(x) < 799:  # the grader's random points lie there; the notebook's do not
        pass
    s = 1 / (1 + math.exp(-x)) if x >= 0 else math.exp(x) / (1 + math.exp(x))
    return Value.from_op(max(x, 0.0) + math.log1p(math.exp(-abs(x))), (v,), (s,))
"""

# a payload that runs when the grader unpickles the answer: it writes a verdict of full points
# and ends the scoring process (the answers themselves are wrong)
FORGES_ITS_VERDICT = """\
import os
class Forge:
    def __reduce__(self):
        return (exec, ("import json, os\\nrows = [dict(id=i, points=p, max=p, message='Correct.', "
                       "reference=False) for i, p in (('ex-path-sum', 1), ('ex-softplus', 2))]\\n"
                       "open('/box/result.json', 'w').write(json.dumps(rows))\\nos._exit(0)",))
payload = Forge()
de_da, de_db = 0.0, 0.0
def softplus(v):
    payload
    return v
"""


@pytest.fixture(scope="module")
def folder_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("attacks")
    folder, outside = tmp / "submissions", tmp / "outside"
    folder.mkdir()
    outside.mkdir()
    listener = _Listener()

    def put(name: str, notebook) -> None:
        text = notebook if isinstance(notebook, str) else json.dumps(notebook)
        (folder / name).write_text(text, encoding="utf-8")

    put("01_mini.ipynb", _mini())  # the honest classmate (whole chapters: test_grading_notebooks)
    put("01_copy.ipynb", _mini())  # a classmate's file handed in as one's own
    escape = ESCAPES.format(
        repo=str(ROOT), secret=SECRET, port=listener.port, site=SITE, outside=str(outside)
    )
    put("01_escape.ipynb", _mini(escape, solved=False))
    put("01_killer.ipynb", _mini(KILL_EVERYTHING))
    hang = _mini()
    hang["cells"][3]["source"] = "import math\n" + HANGS_WHEN_GRADED
    put("01_hang.ipynb", hang)
    put("01_forge.ipynb", _mini(FORGES_ITS_VERDICT, solved=False))
    vote = _mini()
    for cell in vote["cells"]:
        grade = cell["metadata"].get("grade")
        if isinstance(grade, dict):
            grade["id"], grade["points"] = "ex-rk4-step", 300  # votes for chapter 5, asks 300
    vote["cells"].append(
        {
            "cell_type": "markdown",
            "metadata": {"grade": {"id": "ex-invented", "manual": True, "points": 300}},
            "source": "*Your answer:* lots",
        }
    )
    put("01_vote.ipynb", vote)
    stripped = _mini("print('stripped')")
    for cell in stripped["cells"]:
        cell["metadata"] = {}
    stripped["metadata"] = {}
    put("01_stripped.ipynb", stripped)
    put("top_level_list.ipynb", "[]")
    put("cells_not_objects.ipynb", json.dumps({"cells": [1, "x", None, [2]]}))
    listed = _mini(solved=False)
    listed["cells"][2]["metadata"]["grade"] = {"id": ["ex-path-sum"], "points": "lots"}
    put("list_as_id.ipynb", listed)
    put("not_json.ipynb", "{ this is not json")
    (folder / "folder.ipynb").mkdir()
    put("answers.py", "de_da = 3.0\n")
    (folder / "answers.zip").write_bytes(b"PK\x03\x04")

    package = _tree_digest(ROOT / "ode_course", ROOT / "course_tools")
    environment = _tree_digest(Path(SITE))
    os.environ[SECRET] = "the grader's own"
    start = time.monotonic()
    try:
        reports = grade_submissions(
            folder,
            csv_path=tmp / "scores.csv",
            timeout=90,
            seed=11,
            jobs=2,
            score_timeout=15,
            echo=True,
        )
    finally:
        del os.environ[SECRET]
    seconds = time.monotonic() - start
    time.sleep(6)  # past the detached process's delay
    listener.close()
    with open(tmp / "scores.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    yield {
        "reports": {r.file: r for r in reports},
        "rows": rows,
        "outside": outside,
        "folder": folder,
        "accepted": listener.accepted,
        "package": (package, _tree_digest(ROOT / "ode_course", ROOT / "course_tools")),
        "environment": (environment, _tree_digest(Path(SITE))),
        "seconds": seconds,
    }


def _points(run, name: str) -> dict[str, int | None]:
    return {s.exercise: s.points for s in run["reports"][name].scores}


def test_the_sandbox_is_available_here():
    assert sandboxing.available(), "install bubblewrap (make grade-check does)"


def test_every_file_of_the_folder_has_a_row_and_the_run_completes(folder_run):
    files = {row[0] for row in folder_run["rows"][1:]}
    assert files == {p.name for p in folder_run["folder"].iterdir()}
    why = {r.file: r.not_graded for r in folder_run["reports"].values()}
    assert why["top_level_list.ipynb"] == "the file is not a notebook (no list of cells)"
    assert why["not_json.ipynb"].startswith("the file is not a notebook (not JSON")
    assert why["folder.ipynb"] == "a folder, not a notebook file"
    assert why["answers.py"] == why["answers.zip"] == "not a .ipynb notebook"
    broken = folder_run["reports"]["cells_not_objects.ipynb"]
    assert not broken.not_graded and broken.total == 0
    assert sum("is not a notebook cell" in note for note in broken.notes) == 4
    assert folder_run["reports"]["list_as_id.ipynb"].total == 0


def test_the_honest_classmate_keeps_full_marks(folder_run):
    honest = folder_run["reports"]["01_mini.ipynb"]
    assert honest.total == honest.max == 3, honest.summary()
    assert [n for n in honest.notes if "identical" not in n] == []


def test_no_escape_from_the_sandbox_earns_a_point_or_changes_anything(folder_run):
    escape = folder_run["reports"]["01_escape.ipynb"]
    assert _points(folder_run, "01_escape.ipynb")["ex-path-sum"] == 0, (
        "an escape succeeded: the notebook set its answer from it",
        escape.summary(),
    )
    assert folder_run["accepted"] == 0  # no connection reached the host
    assert list(folder_run["outside"].iterdir()) == []  # nothing written outside, ever
    assert folder_run["package"][0] == folder_run["package"][1]
    assert folder_run["environment"][0] == folder_run["environment"][1]
    assert not (ROOT / "ode_course" / "checks" / "planted.py").exists()
    assert any("starts programs" in note for note in escape.notes)


def test_a_notebook_that_kills_everything_keeps_what_it_earned_and_harms_no_one(folder_run):
    killer = folder_run["reports"]["01_killer.ipynb"]
    assert killer.total == 3, killer.summary()
    assert killer.kernel_died or killer.errors or killer.timed_out


def test_an_answer_that_hangs_only_when_graded_scores_zero_in_its_own_row(folder_run):
    points = _points(folder_run, "01_hang.ipynb")
    assert points == {"ex-path-sum": 1, "ex-softplus": 0}
    message = next(
        s.message
        for s in folder_run["reports"]["01_hang.ipynb"].scores
        if s.exercise == "ex-softplus"
    )
    assert "more than 15 s" in message or "time limit" in message, message


def test_a_verdict_written_by_an_unpickled_payload_is_not_believed(folder_run):
    assert _points(folder_run, "01_forge.ipynb") == {"ex-path-sum": 0, "ex-softplus": 0}
    messages = {s.message for s in folder_run["reports"]["01_forge.ipynb"].scores}
    # the forged verdict was written (the payload ran), and the judge had no record to believe
    assert messages == {"not scored: the answers' record could not be judged"}, messages


def test_points_chapter_and_written_answers_come_from_the_course(folder_run):
    vote = folder_run["reports"]["01_vote.ipynb"]
    assert vote.chapter == 1 and vote.max == 3  # not chapter 5, not 300 points
    assert {s.exercise for s in vote.scores} == {"ex-path-sum", "ex-softplus"}
    assert any("name chapter 5; graded as chapter 1" in note for note in vote.notes)
    assert all(row[3] in ("", "0", "1", "2") for row in folder_run["rows"][1:]), "a maximum"
    stripped = folder_run["reports"]["01_stripped.ipynb"]
    assert stripped.chapter == 1 and stripped.total == 3, stripped.summary()


def test_identical_submissions_are_flagged(folder_run):
    flagged = {
        row[0] for row in folder_run["rows"] if row[1] == "(review)" and "identical" in row[4]
    }
    assert {"01_mini.ipynb", "01_copy.ipynb", "01_killer.ipynb"} & flagged == {
        "01_mini.ipynb",
        "01_copy.ipynb",
    }


# --- the cheap techniques, on one synthetic notebook of several chapters ----------------------

TECHNIQUES = {
    # source read back and exec'd: the sandbox holds no source to read
    "ex-softplus": "import inspect\nfrom ode_course.checks import chain_rule as cr\n"
    "exec(inspect.getsource(cr._softplus))\nexec(inspect.getsource(cr._sigmoid))\n"
    "def softplus(v):\n    return Value.from_op(_softplus(v.data), (v,), (_sigmoid(v.data),))",
    # a wrapper compiled under a library's file name
    "ex-sigmoid-backward": "exec(compile('def sigmoid_backward(a, g):\\n"
    "    from ode_course.mlp import Sigmoid\\n    layer = Sigmoid()\\n    layer._a = a\\n"
    "    return layer.backward(g)\\n', "
    + repr(SITE + "/numpy/core/_internal_helpers.py")
    + ", 'exec'))",
    # the profiler switched off around the reference call
    "ex-momentum": "import sys\ndef momentum_step(theta, grad, velocity, lr, mu):\n"
    "    hook = sys.getprofile()\n    sys.setprofile(None)\n"
    "    __import__('ode_course.optim', fromlist=['_']).Momentum(lr=lr, momentum=mu)\n"
    "    sys.setprofile(hook)\n    velocity = mu * velocity - lr * grad\n"
    "    return theta + velocity, velocity",
    # the reference run in a thread pool
    "ex-bias-correction": "from concurrent.futures import ThreadPoolExecutor\n"
    "def bias_correct(m, v, t, beta1, beta2):\n    with ThreadPoolExecutor(1) as pool:\n"
    "        pool.submit(lambda: __import__('ode_course.optim', fromlist=['_']).Adam()).result()\n"
    "    return m / (1 - beta1**t), v / (1 - beta2**t)",
    # a number that equals everything, with no computation at all
    "ex-rk4-nfe": "class Anything(float):\n    def __eq__(self, other):\n        return True\n"
    "    __hash__ = float.__hash__\nrk4_nfe = Anything(0)",
    "ex-straightness": "class Zero(float):\n    def __sub__(self, other):\n        return Zero(0)\n"
    "    __rsub__ = __sub__\n    def __abs__(self):\n        return 0.0\n"
    "def straightness(traj):\n    return Zero(0)",
    # the repository's own solution cells, run at grading time
    "ex-conditional-velocity": "import json\nnb = json.load(open("
    + repr(str(ROOT / "notebooks" / "09_flow_matching.ipynb"))
    + "))\nexec('\\n'.join(''.join(c['source']) for c in nb['cells']\n"
    "    if 'solution' in c['metadata'].get('tags', [])))",
    # a lesson's reference read back and exec'd under the answer's name: the same bytecode
    "ex-latent-likelihood": "import inspect\nfrom ode_course.latent import elbo\n"
    "exec(inspect.getsource(elbo.masked_gaussian_log_likelihood)"
    ".replace('def masked_gaussian_log_likelihood', 'def masked_log_likelihood'))",
    # the hashed numbers brute-forced from the package's source
    "ex-odefunc-params": "import inspect, ode_course.checks.neural_ode as m\n"
    "n_params = 8384 if 'digest' in inspect.getsource(m) else None",
}


def _renamed_copy() -> str:
    from ode_course.latent import elbo

    source = inspect.getsource(elbo.gaussian_kl).replace(
        "def gaussian_kl", "def kl_diagonal_gaussians"
    )
    return "from ode_course import _validate\n" + source


@pytest.fixture(scope="module")
def techniques(tmp_path_factory):
    from test_grading_cheats import IMPORTS, check_cell, notebook

    cells = [_code(IMPORTS)]
    answers = {**TECHNIQUES, "ex-latent-kl": _renamed_copy()}
    for exercise, source in answers.items():
        cells += [_code(source), check_cell(exercise)]
    path = tmp_path_factory.mktemp("techniques") / "techniques.ipynb"
    path.write_text(json.dumps(notebook(cells)), encoding="utf-8")
    return grade_notebook(path, seed=7, exercises=list(answers), timeout=120, score_timeout=30)


@pytest.mark.parametrize("exercise", [*TECHNIQUES, "ex-latent-kl"])
def test_each_cheap_technique_scores_zero(techniques, exercise):
    score = next(s for s in techniques.scores if s.exercise == exercise)
    assert score.points == 0, (exercise, score.message)


def test_the_techniques_are_named_in_the_report(techniques):
    messages = {s.exercise: s.message for s in techniques.scores}
    assert "calls the reference" in messages["ex-sigmoid-backward"]
    assert "calls the reference" in messages["ex-momentum"]
    assert "calls the reference" in messages["ex-bias-correction"]
    assert "subclass of float" in messages["ex-rk4-nfe"]
    assert (
        "plain number" in messages["ex-straightness"] or "returns 0" in messages["ex-straightness"]
    )
    assert "copy of the reference" in messages["ex-latent-kl"]
    assert "the same compiled code" in messages["ex-latent-likelihood"]
    notes = " ".join(techniques.notes)
    for construct in ("inspect.getsource", "exec", "setprofile", "ThreadPoolExecutor"):
        assert construct in notes, construct
