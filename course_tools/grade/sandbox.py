"""Where a submission runs: a bubblewrap sandbox that shows it nothing it could change or read.

Every step that runs student code (executing the notebook, then loading and scoring its
answers) runs in its own sandbox, a fresh one per step and per submission, built by
bubblewrap (``bwrap``, Debian's package ``bubblewrap``) with:

- the system (``/usr``, ``/etc``, ...), the Python installation and the virtual environment
  **read-only**; the course's packages from a copy (:class:`PackageImage`) laid over their real
  locations: the lessons with their source (a chapter may print a function's code), the checks
  (which hold the salted digests of numeric answers) and the grader as **bytecode only**; and
  nothing of the checkout (notebooks, answer keys, the other submissions, the CSV);
- one private folder, holding a copy of the one submission, as the **only writable place**
  (and its own ``/tmp``, a fresh tmpfs);
- **no network** (a network namespace with a loopback interface only: the kernel's own
  sockets), its own **process namespace** (everything in it dies with the step, and with the
  grader), a **cleared environment** (PATH, HOME in the private folder, and the few variables
  :func:`environment` lists), a new session (no terminal to type into);
- **limits**: the wall time of the step, address space, file size and open files per process
  (``setrlimit``), and the number of processes (``RLIMIT_NPROC``; root ignores it, so where the
  grader runs as root it also puts the step in a ``pids`` cgroup when it may).

:func:`available` says whether bubblewrap works here; the grader refuses to run without it
unless the instructor passes ``--unsafe-no-sandbox`` (then :data:`UNSAFE` is printed).

Example:
    >>> Limits(seconds=60).memory >= 2**30
    True
"""

from __future__ import annotations

import compileall
import functools
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

__all__: list[str] = []  # used by the grader; see the module docstring

UNSAFE = (
    "WARNING: grading WITHOUT a sandbox (--unsafe-no-sandbox): student code runs as you, can read "
    "and change your files, the course's package, the other submissions and the scores, and "
    "reach the network. Use it only for notebooks you trust."
)
"""What the grader prints when it runs without a sandbox."""

_SYSTEM = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc", "/opt")
IMAGE_MOUNT = "/course_image"
"""Where the package image appears inside the sandbox (first on ``PYTHONPATH``)."""
BOX = "/box"
"""Where the private folder appears inside the sandbox."""


@dataclass(frozen=True)
class Limits:
    """What one sandboxed step may use.

    Attributes:
        seconds: wall-clock seconds for the whole step (the grader kills it after).
        memory: bytes of address space per process (``RLIMIT_AS``).
        processes: processes and threads at once (``RLIMIT_NPROC``, and a cgroup as root).
        file_size: bytes per file written (``RLIMIT_FSIZE``).
        open_files: open files per process (``RLIMIT_NOFILE``).
    """

    seconds: float
    memory: int = 8 * 2**30
    processes: int = 512
    file_size: int = 2**30
    open_files: int = 1024


@functools.cache
def available() -> bool:
    """True if ``bwrap`` is installed and can build a sandbox here (user namespaces allowed)."""
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return False
    probe = [bwrap, "--ro-bind", "/", "/", "--unshare-all", "--die-with-parent", "true"]
    try:
        return subprocess.run(probe, capture_output=True, timeout=30).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


class PackageImage:
    """The course's packages as the sandbox sees them: compiled, the checks and the grader
    without a line of their source.

    Built once per grading run in a temporary folder: each package's files are copied and
    compiled (``compileall`` with ``legacy=True``: ``x.pyc`` beside ``x.py``, which Python imports
    without the source); the ``.py`` files of ``ode_course.checks`` and of ``course_tools`` are
    deleted. Inside the sandbox this folder is laid over each package's real location and put
    first on ``PYTHONPATH``.
    """

    def __init__(self, packages: Sequence[ModuleType]) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="ode_course_image_")
        self.root = Path(self._tmp.name)
        self.packages: dict[str, Path] = {}
        for package in packages:
            source = Path(package.__file__ or "").parent
            target = self.root / package.__name__
            shutil.copytree(
                source, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyo")
            )
            # the code objects name the files where the sandbox shows them (ddir), so that
            # tracebacks and the reference detection see the package's own paths
            inside = f"{IMAGE_MOUNT}/{package.__name__}"
            if not compileall.compile_dir(target, quiet=1, legacy=True, ddir=inside, workers=1):
                raise RuntimeError(f"could not compile {package.__name__} for the sandbox")
            for path in target.rglob("*.py"):
                if package.__name__ != "ode_course" or path.is_relative_to(target / "checks"):
                    path.unlink()
            self.packages[package.__name__] = source

    def cleanup(self) -> None:
        """Delete the image."""
        self._tmp.cleanup()


def environment(box: str = BOX, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The whole environment of a sandboxed step: nothing of the grader's but PATH."""
    env = {
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), "/usr/bin", "/bin"]),
        "HOME": f"{box}/home",
        "LANG": "C.UTF-8",
        "PYTHONPATH": IMAGE_MOUNT,
        "PYTHONDONTWRITEBYTECODE": "1",
        "MPLBACKEND": "Agg",
        "JUPYTER_PLATFORM_DIRS": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "TMPDIR": "/tmp",
    }
    env.update(extra or {})
    return env


def command(
    argv: Sequence[str], box: Path, image: PackageImage, *, env: dict[str, str] | None = None
) -> list[str]:
    """The ``bwrap`` command line that runs ``argv`` in a sandbox whose one writable place is
    ``box`` (seen inside as :data:`BOX`)."""
    bwrap = shutil.which("bwrap") or "bwrap"
    # the fresh /tmp first: later mounts lie on top of earlier ones, and the environment or
    # the checkout may themselves live under /tmp
    args = [bwrap, "--tmpfs", "/tmp", "--dev", "/dev", "--proc", "/proc"]
    for path in _SYSTEM:
        if Path(path).exists():
            args += ["--ro-bind", path, path]
    for path in sorted({sys.base_prefix, sys.prefix, sys.exec_prefix}):
        args += ["--ro-bind", path, path]
    args += ["--ro-bind", str(image.root), IMAGE_MOUNT]
    for name, location in image.packages.items():
        args += ["--ro-bind", str(image.root / name), str(location)]
    args += [
        "--bind", str(box), BOX,
        "--chdir", f"{BOX}/work",
        "--unshare-all",
        "--die-with-parent",
        "--new-session",
        "--clearenv",
    ]  # fmt: skip
    for key, value in environment(extra=env).items():
        args += ["--setenv", key, value]
    return [*args, "--", *argv]


def _limit(limits: Limits) -> None:
    """In the child, before ``bwrap`` starts: the resource limits, inherited by every process."""
    for kind, value in (
        (resource.RLIMIT_AS, limits.memory),
        (resource.RLIMIT_NPROC, limits.processes),
        (resource.RLIMIT_FSIZE, limits.file_size),
        (resource.RLIMIT_NOFILE, limits.open_files),
        (resource.RLIMIT_CORE, 0),
    ):
        resource.setrlimit(kind, (value, value))
    _join_pids_cgroup(limits.processes)


def _join_pids_cgroup(processes: int) -> None:
    """As root, where a v1 ``pids`` cgroup is writable: a new one with ``pids.max``."""
    base = Path("/sys/fs/cgroup/pids")
    if os.geteuid() != 0 or not (base / "cgroup.procs").exists():
        return
    try:
        group = base / f"ode_course_grade_{uuid.uuid4().hex[:12]}"
        group.mkdir()
        (group / "pids.max").write_text(str(processes))
        (group / "cgroup.procs").write_text(str(os.getpid()))
    except OSError:
        return  # not allowed here: RLIMIT_NPROC is the only limit


def run(
    argv: Sequence[str],
    box: Path,
    image: PackageImage | None,
    limits: Limits,
    *,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``argv`` in a sandbox (or, with ``image=None``, unsandboxed in ``box``).

    Returns the completed process; a step past ``limits.seconds`` is killed, with everything
    it started, and returned with ``returncode`` -9 and what it printed.
    """
    (box / "home").mkdir(exist_ok=True)
    (box / "work").mkdir(exist_ok=True)
    if image is None:
        full = list(argv)
        cwd: Path | None = box / "work"
        child_env = {**os.environ, **environment(str(box), env)}
        child_env["PYTHONPATH"] = os.environ.get("PYTHONPATH", "")
    else:
        full, cwd, child_env = command(argv, box, image, env=env), None, None
    process = subprocess.Popen(
        full,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=cwd,
        env=child_env,
        preexec_fn=functools.partial(_limit, limits) if image is not None else None,
        start_new_session=image is None,
    )
    try:
        out, err = process.communicate(timeout=limits.seconds)
    except subprocess.TimeoutExpired:
        _kill(process)
        out, err = process.communicate()
        return subprocess.CompletedProcess(full, -9, out, err)
    return subprocess.CompletedProcess(full, process.returncode, out, err)


def _kill(process: subprocess.Popen[str]) -> None:
    """Kill the step: bwrap's process namespace takes everything in it along."""
    try:
        if process.pid and os.getpgid(process.pid) == process.pid:
            os.killpg(process.pid, 9)
        else:
            process.kill()
    except (ProcessLookupError, PermissionError):
        pass
