"""The tools that validate notebooks as other machines would, and store their outputs."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

import numeric_configs  # noqa: E402
from test_workflows import make_recipe  # noqa: E402


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


def test_make_test_runs_the_portable_check_and_make_outputs_stores_in_fresh_kernels():
    assert "nbval-all" in _prerequisites("test").split()
    assert "tools/nbval_portable.py --with-default" in make_recipe("nbval-all")
    assert "tools/nbval_portable.py" in make_recipe("nbval-portable")
    assert "tools/store_outputs.py" in make_recipe("outputs")


def _prerequisites(target: str) -> str:
    for line in (ROOT / "Makefile").read_text(encoding="utf-8").splitlines():
        if line.startswith(f"{target}:"):
            return line
    raise AssertionError(f"no target {target}")
