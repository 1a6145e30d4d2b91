"""Numerical configurations that play "another machine" for the notebooks.

A stored output is compared with the output of a fresh run, so it must not depend on which
numerical kernels the libraries pick. Those are chosen at run time from the CPU, the BLAS build
and the thread count, and another laptop, a cloud runtime such as Colab's, or a new release of
a library picks others: the last bits of a matrix product, a reduction or an ``exp`` change, and
a long or chaotic computation amplifies them. We cannot borrow other CPUs in CI, but every
library lets an environment variable force a different kernel on this one:

- ``OPENBLAS_CORETYPE`` picks numpy's and scipy's OpenBLAS kernels for another CPU family
  (Prescott: SSE3 only; Sandybridge: AVX without fused multiply-add; the default here is
  Haswell, AVX2 with FMA, which changes how every dot product rounds);
- ``ATEN_CPU_CAPABILITY`` picks PyTorch's vectorised kernels (``default`` is the scalar build,
  used on CPUs without AVX2; ``avx2`` is what this machine uses);
- ``MKL_ENABLE_INSTRUCTIONS`` caps the instruction set of the MKL that PyTorch's matrix
  products use;
- ``NPY_DISABLE_CPU_FEATURES`` switches off numpy's own AVX2/FMA loops (``exp``, ``log``, sums):
  every target the running numpy dispatches to, by the names that release uses (numpy 2.1 wants
  ``AVX2 FMA3 …`` and ignores ``X86_V3``; numpy 2.4 wants ``X86_V3``), so that its loops run on
  the baseline;
- ``OMP_NUM_THREADS`` sets the threads of PyTorch, MKL and OpenBLAS, which split reductions
  into different partial sums (one thread, as in a notebook that calls
  ``torch.set_num_threads(1)``, or three, more than the cores, as on a busy shared runtime).

The two configurations below change every one of these at once, each in a different direction,
so that between them they cover an older CPU (SSE only, scalar PyTorch, one thread) and a CPU of
the same age with other vector units and another thread count. ``make nbval-portable`` re-runs
every notebook under both and compares with the stored outputs, strictly, with the same
sanitizer as ``make nbval``.
"""

from __future__ import annotations

import os

from course_tools import course

ROOT = course.root()

# What the kernels that validate or store outputs are told, so that nothing but the notebook
# writes into a cell's output. Several kernels run side by side (make test runs three nbval
# runs at once), and IPython's history database is one SQLite file per profile: kernels that
# share it can find it locked, and IPython reports that into whichever cell is running. So each
# kernel keeps its history in memory. And ipykernel forwards whatever the process writes to file
# descriptor 2 (C libraries, and its own "IOStream.flush timed out" when a loaded machine stalls
# its output thread) into the running cell; that text is the runtime's and comes and goes with
# the load, so it stays out. Python's warnings still reach the cell through ``sys.stderr``, so a
# cell that warns still fails nbval. CI once failed on such a stray stderr output.
KERNEL_CONFIG = "c.HistoryManager.enabled = False\nc.IPKernelApp.capture_fd_output = False\n"

CONFIGS: dict[str, dict[str, str]] = {
    # An older x86 CPU: SSE-only BLAS and numpy loops, PyTorch's scalar kernels, one thread.
    "sse-1thread": {
        "OPENBLAS_CORETYPE": "Prescott",
        "ATEN_CPU_CAPABILITY": "default",
        "MKL_ENABLE_INSTRUCTIONS": "SSE4_2",
        "NPY_DISABLE_CPU_FEATURES": "(every dispatched target above the baseline)",
        "OMP_NUM_THREADS": "1",
    },
    # Vector units without fused multiply-add in BLAS, AVX-capped MKL, and three threads.
    "avx-3threads": {
        "OPENBLAS_CORETYPE": "Sandybridge",
        "ATEN_CPU_CAPABILITY": "avx2",
        "MKL_ENABLE_INSTRUCTIONS": "AVX",
        "OMP_NUM_THREADS": "3",
    },
}


NUMPY_PROBE = (
    "from numpy._core._multiarray_umath import __cpu_dispatch__ as d, __cpu_features__ as f\n"
    "print(' '.join(d)); print(' '.join(t for t in d if f.get(t)))"
)
"""Prints the SIMD targets numpy dispatches to, then those it uses on this CPU."""


def numpy_dispatch(env: dict[str, str] | None = None) -> tuple[list[str], list[str]]:
    """numpy's dispatched SIMD targets and the enabled ones, in a fresh interpreter under
    ``env`` (names differ by release: numpy 2.1 says ``AVX2``, ``FMA3``, …; numpy 2.4 groups
    them as ``X86_V3``, and ignores a name it does not dispatch to)."""
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-c", NUMPY_PROBE], env=env, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    return out[0].split(), (out[1].split() if len(out) > 1 else [])


def _numpy_sse_only() -> str:
    """The value of ``NPY_DISABLE_CPU_FEATURES`` that leaves the numpy here on its baseline."""
    return " ".join(numpy_dispatch()[0])


def kernel_settings() -> dict[str, str]:
    """``IPYTHONDIR`` for kernels configured by ``KERNEL_CONFIG`` (written under ``_build/``)."""
    profile = ROOT / "_build" / "ipython" / "profile_default"
    profile.mkdir(parents=True, exist_ok=True)
    config = profile / "ipython_kernel_config.py"
    if not config.exists() or config.read_text(encoding="utf-8") != KERNEL_CONFIG:
        config.write_text(KERNEL_CONFIG, encoding="utf-8")
    return {"IPYTHONDIR": str(profile.parent)}


def environment(name: str) -> dict[str, str]:
    """This process's environment with configuration ``name`` and the kernel settings applied."""
    if name != "default" and name not in CONFIGS:
        raise ValueError(
            f"config must be 'default' or one of {sorted(CONFIGS)}; got {name!r}. "
            "Fix: pick a name from course_tools/numeric_configs.py."
        )
    settings = dict(CONFIGS.get(name, {}))
    if "NPY_DISABLE_CPU_FEATURES" in settings:
        settings["NPY_DISABLE_CPU_FEATURES"] = _numpy_sse_only()
    return {**os.environ, **settings, **kernel_settings()}
