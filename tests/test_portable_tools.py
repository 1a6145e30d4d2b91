"""The tools that validate notebooks as other machines would, and store their outputs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from test_workflows import make_recipe

from course_tools import numeric_configs

ROOT = Path(__file__).resolve().parents[1]


def test_every_configuration_changes_kernels_and_threads():
    """Each configuration must differ from this machine in BLAS kernels and in thread count."""
    assert len(numeric_configs.CONFIGS) >= 2
    threads = set()
    for name, settings in numeric_configs.CONFIGS.items():
        required = {"OPENBLAS_CORETYPE", "ATEN_CPU_CAPABILITY", "OMP_NUM_THREADS"}
        assert required <= set(settings), name
        threads.add(settings["OMP_NUM_THREADS"])
    assert len(threads) == len(numeric_configs.CONFIGS)  # each a different thread count


def test_environment_applies_a_configuration_and_rejects_unknown_names(monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "7")
    assert numeric_configs.environment("default")["OMP_NUM_THREADS"] == "7"
    env = numeric_configs.environment("sse-1thread")
    assert env["OMP_NUM_THREADS"] == "1" and env["ATEN_CPU_CAPABILITY"] == "default"
    with pytest.raises(ValueError, match=r"config must be 'default' or one of .* Fix: pick"):
        numeric_configs.environment("quantum")


def test_the_sse_configuration_leaves_numpy_on_its_baseline_whatever_its_release_calls_it():
    # numpy 2.1 ignores NPY_DISABLE_CPU_FEATURES=X86_V3 and numpy 2.4 ignores "AVX2 FMA3":
    # the value is computed from the numpy that runs, and what it enables is read back.
    dispatched, enabled = numeric_configs.numpy_dispatch()
    _, under_sse = numeric_configs.numpy_dispatch(numeric_configs.environment("sse-1thread"))
    assert under_sse == [], (dispatched, under_sse)
    _, under_avx = numeric_configs.numpy_dispatch(numeric_configs.environment("avx-3threads"))
    assert under_avx == enabled


def test_kernels_keep_the_runtimes_stderr_out_of_cells_but_not_python_warnings():
    # Outside pytest (make outputs), ipykernel forwards file descriptor 2 into the running cell:
    # C libraries' messages and its own "IOStream.flush timed out" on a loaded machine. They are
    # the runtime's, not the notebook's, so kernels keep them out; a Python warning still shows.
    # Kernels side by side must not share IPython's history database (SQLite locks).
    import nbformat
    from nbclient import NotebookClient

    source = (
        "import os, sys, time, warnings\n"
        "os.write(2, b'IOStream.flush timed out\\n'); print('runtime', file=sys.__stderr__)\n"
        "warnings.warn('a real warning'); time.sleep(1)  # time for ipykernel to forward fd 2\n"
        "print('history database:', get_ipython().history_manager.hist_file)"
    )
    env = numeric_configs.environment("default")
    env.pop("PYTEST_CURRENT_TEST", None)  # as in make outputs, which does not run under pytest
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)])
    NotebookClient(nb, kernel_name="python3", timeout=120).execute(env=env)
    text = "".join(o.get("text", "") for o in nb.cells[0].outputs)
    assert "a real warning" in text and "history database: :memory:" in text
    assert "timed out" not in text and "runtime" not in text


def test_a_failure_shows_the_text_of_an_output_the_notebook_did_not_store(tmp_path):
    import nbformat

    cell = nbformat.v4.new_code_cell("import warnings\nprint('hi')\nwarnings.warn('surprise')")
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="hi\n")]
    cell.execution_count = 1
    nbformat.write(nbformat.v4.new_notebook(cells=[cell]), tmp_path / "warns.ipynb")
    run = subprocess.run(
        [sys.executable, "-m", "course_tools", "nbval", "--config", "default", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 1
    assert "unexpected stderr output" in run.stdout and "UserWarning: surprise" in run.stdout


def test_make_test_runs_the_portable_check_and_make_outputs_stores_in_fresh_kernels():
    assert "nbval-portable" in _prerequisites("test").split()
    assert "-m course_tools nbval --with-default" in make_recipe("nbval-all")
    assert "-m course_tools nbval --config default" in make_recipe("nbval")
    assert "-m course_tools nbval" in make_recipe("nbval-portable")
    assert "-m course_tools outputs" in make_recipe("outputs")


def _prerequisites(target: str) -> str:
    for line in (ROOT / "Makefile").read_text(encoding="utf-8").splitlines():
        if line.startswith(f"{target}:"):
            return line
    raise AssertionError(f"no target {target}")
