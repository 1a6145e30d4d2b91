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
- ``NPY_DISABLE_CPU_FEATURES`` switches off numpy's own AVX2/FMA loops (``exp``, ``log``, sums);
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

CONFIGS: dict[str, dict[str, str]] = {
    # An older x86 CPU: SSE-only BLAS and numpy loops, PyTorch's scalar kernels, one thread.
    "sse-1thread": {
        "OPENBLAS_CORETYPE": "Prescott",
        "ATEN_CPU_CAPABILITY": "default",
        "MKL_ENABLE_INSTRUCTIONS": "SSE4_2",
        "NPY_DISABLE_CPU_FEATURES": "X86_V3",
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


def environment(name: str) -> dict[str, str]:
    """A copy of this process's environment with configuration ``name`` applied."""
    if name == "default":
        return dict(os.environ)
    if name not in CONFIGS:
        raise ValueError(
            f"config must be 'default' or one of {sorted(CONFIGS)}; got {name!r}. "
            "Fix: pick a name from tools/numeric_configs.py."
        )
    return {**os.environ, **CONFIGS[name]}
