"""The package's layout: one list of public names, no private imports across modules."""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path

import pytest

import ode_course

PACKAGE = Path(ode_course.__file__).parent


def _public_modules() -> list[str]:
    """The top-level modules and packages of ode_course whose names do not start with _."""
    return sorted(
        m.name for m in pkgutil.iter_modules([str(PACKAGE)]) if not m.name.startswith("_")
    )


def _notebook_imports() -> dict[str, set[str]]:
    """Module → the names the chapters import from it (``from ode_course… import …``)."""
    from course_tools import course, notebook

    found: dict[str, set[str]] = {}
    for path in course.chapters(PACKAGE.parent):
        for node in notebook.imports(notebook.read(path).cells):
            module = (node.module or "") if isinstance(node, ast.ImportFrom) else ""
            if module.startswith("ode_course"):
                found.setdefault(module, set()).update(a.name for a in node.names)
    return found


def test_every_public_module_is_listed_once():
    listed = [module.__name__.split(".")[-1] for module in ode_course.PUBLIC_MODULES]
    assert sorted(listed) == _public_modules()


def test_the_top_level_is_what_the_chapters_import_and_each_name_is_its_modules_object():
    owners = {}
    for module in ode_course.PUBLIC_MODULES:
        for public in module.__all__:
            owners.setdefault(public, module)
    assert len(ode_course.__all__) < 130  # curated: what 11 chapters need, not every name
    for name in ode_course.__all__:
        assert name in owners, f"{name} is at the top level but in no module's __all__"
        assert getattr(ode_course, name) is getattr(owners[name], name), name
    imports = _notebook_imports()
    top = {n for n in imports.pop("ode_course", set()) if n not in _public_modules()}
    assert top == set(ode_course.__all__), "the top level is exactly what the chapters import"
    # the one way: lessons from ode_course, checks from ode_course.checks, nothing else
    assert set(imports) <= {"ode_course.checks"}, sorted(imports)
    assert imports.get("ode_course.checks", set()) <= set(ode_course.checks.__all__)


def test_a_name_exported_by_two_modules_is_the_same_object():
    owners: dict[str, tuple[str, object]] = {}
    for name in _public_modules():
        module = importlib.import_module(f"ode_course.{name}")
        for public in module.__all__:
            value = getattr(module, public)
            if public in owners:
                first, other = owners[public]
                assert other is value, f"{public} means one thing in {first}, another in {name}"
            owners[public] = (name, value)


@pytest.mark.parametrize("name", _public_modules())
def test_every_name_in_a_modules_all_exists_and_is_documented(name):
    module = importlib.import_module(f"ode_course.{name}")
    assert module.__doc__ and module.__doc__.strip(), f"ode_course.{name} has no docstring"
    for public in module.__all__:
        value = getattr(module, public)  # raises if missing
        if callable(value) and not isinstance(value, type(ode_course)):
            assert getattr(value, "__doc__", None), f"ode_course.{name}.{public} has no docstring"


def _imported_private_names(path: Path) -> list[str]:
    """``from ode_course.x import _y`` and ``module._y`` on an imported ode_course module."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found, aliases = [], set()
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.ImportFrom)
            and node.module
            and node.module.startswith("ode_course")
        ):
            for alias in node.names:
                if alias.name.startswith("_") and alias.name != "_validate":
                    found.append(f"from {node.module} import {alias.name}")
                if node.module == "ode_course" or alias.name[:1].islower():
                    aliases.add(alias.asname or alias.name)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("ode_course") and alias.asname:
                    aliases.add(alias.asname)
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in aliases
            and node.attr.startswith("_")
            and not node.attr.startswith("__")
        ):
            found.append(f"{node.value.id}.{node.attr}")
    return found


def test_no_module_imports_another_modules_private_names():
    offenders = {
        str(path.relative_to(PACKAGE)): names
        for path in sorted(PACKAGE.rglob("*.py"))
        if (names := _imported_private_names(path))
    }
    assert offenders == {}


def test_the_private_name_scan_finds_what_it_looks_for(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text(
        "from ode_course.solvers.problem import _secret\n"
        "from ode_course import adjoint as adjoint_module\n"
        "adjoint_module._augmented_dynamics\n"
        "from ode_course import _validate\n",
        encoding="utf-8",
    )
    assert _imported_private_names(sample) == [
        "from ode_course.solvers.problem import _secret",
        "adjoint_module._augmented_dynamics",
    ]


@pytest.mark.parametrize(
    "path",
    [
        "ode_course.autodiff.ScalarMLP",
        "ode_course.autodiff.Value",
        "ode_course.autodiff.gradcheck",
        "ode_course.gradient_flow.minimize",
        "ode_course.memory.TensorMemory",
        "ode_course.optim.Adam",
        "ode_course.optim.Momentum",
        "ode_course.solvers.RK4",
        "ode_course.solvers.Dopri5",
        "ode_course.solvers.ButcherTableau",
        "ode_course.adjoint.adjoint_dynamics",
        "ode_course.cnf.hutchinson_trace",
        "ode_course.data.toy_data",
        "ode_course.checks.check_rk4_step",
    ],
)
def test_module_paths_the_notebooks_and_book_use_still_resolve(path):
    module, _, name = path.rpartition(".")
    value = getattr(importlib.import_module(module), name)
    assert getattr(ode_course, name, value) is value  # and the top level, if there, agrees


def test_the_wheel_ships_both_packages_and_asks_a_learner_for_no_instructor_dependency(tmp_path):
    # Colab installs a wheel (`pip install git+...`), not the checkout: build one and read it.
    # `make wheel-check` installs it in a fresh environment and runs notebooks against it.
    import subprocess
    import sys
    import zipfile

    root = PACKAGE.parent
    build = [sys.executable, "-m", "pip", "wheel", str(root), "--no-deps", "--no-build-isolation"]
    subprocess.run(
        [*build, "-q", "-w", str(tmp_path)],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("ode_course-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for package in ("ode_course", "course_tools"):
        for init in (root / package).rglob("__init__.py"):
            assert init.relative_to(root).as_posix() in names, init
    assert "course_tools/guide_grading.md" in names
    meta = next(n for n in names if n.endswith("METADATA"))
    lines = zipfile.ZipFile(wheel).read(meta).decode().splitlines()
    plain = [x.split(":", 1)[1].strip() for x in lines if x.startswith("Requires-Dist:")]
    plain = [x for x in plain if "extra ==" not in x]
    for tool in ("nbformat", "nbclient", "cloudpickle", "ipykernel", "pybtex", "markdown-it"):
        assert not any(x.startswith(tool) for x in plain), (tool, plain)
    assert "Requires-Python: >=3.11" in lines  # tomllib in the tests, and CI runs 3.11


def test_the_torch_floor_is_the_release_whose_saved_tensor_callbacks_fire():
    import tomllib

    config = tomllib.loads((PACKAGE.parent / "pyproject.toml").read_text(encoding="utf-8"))
    floor = next(d for d in config["project"]["dependencies"] if d.startswith("torch"))
    assert floor == f"torch>={ode_course.memory.OLDEST_TORCH}"


def test_the_licences_are_stated_in_the_repository_and_the_book():
    root = Path(__file__).resolve().parents[1]
    assert "MIT License" in (root / "LICENSE").read_text(encoding="utf-8")
    assert "CC BY 4.0" in (root / "LICENSE-CONTENT.md").read_text(encoding="utf-8")
    for page in ("README.md", "book/intro.md"):
        text = (root / page).read_text(encoding="utf-8")
        assert "CC BY 4.0" in text and "MIT" in text, page
