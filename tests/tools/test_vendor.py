"""tools/vendor.py: a copy of the library that works with only httpx and attrs installed, and
holds exactly what the wheel ships."""

from __future__ import annotations

import ast
import datetime
import hashlib
import json
import shutil
import subprocess
from collections.abc import Iterator
from importlib.metadata import Distribution, distribution
from pathlib import Path

import pytest
import shipping
import vendor
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from shipping import exercise, files_in, import_every_module, modules_in

ROOT = Path(__file__).resolve().parents[2]
OVERLAY = ROOT / "overlay" / "neon_keys"
GENERATED = ROOT / "generated" / "neon_api_keys_client"
DAY = datetime.date(2025, 11, 3)


def shipped_generated_files() -> set[str]:
    """The generated package's files that pyproject.toml ships, relative to the package."""
    contents = vendor.shipped()
    prefix = "generated/neon_api_keys_client/"
    excluded = {path.removeprefix(prefix) for path in contents.excluded}
    kept = {
        name
        for name in files_in(GENERATED)
        if not any(name == gone or name.startswith(gone + "/") for gone in excluded)
    }
    added = {
        target.removeprefix("neon_api_keys_client/")
        for target in contents.added.values()
        if target.startswith("neon_api_keys_client/")
    }
    return kept | added


def runtime_closure(*names: str) -> dict[str, Distribution]:
    """The installed distributions ``names`` need at run time (no extras), transitively."""
    found: dict[str, Distribution] = {}
    todo = list(names)
    while todo:
        name = canonicalize_name(todo.pop())
        if name in found:
            continue
        found[name] = dist = distribution(name)
        for line in dist.requires or ():
            requirement = Requirement(line)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                todo.append(requirement.name)
    return found


@pytest.fixture(scope="module")
def vendored(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project vendored into a fresh folder."""
    dest = tmp_path_factory.mktemp("vendored")
    vendor.vendor(dest, today=DAY)
    return dest


@pytest.fixture(scope="module")
def only_httpx_and_attrs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding just httpx, attrs and what they need, linked from this environment."""
    site = tmp_path_factory.mktemp("site")
    closure = runtime_closure("httpx", "attrs")
    assert not {"click", "starlette", "uvicorn"} & set(closure)
    for dist in closure.values():
        tops = {Path(str(f)).parts[0] for f in dist.files or ()}
        for top in tops - {"..", "__pycache__"}:
            source = Path(str(dist.locate_file(top)))
            if source.exists() and not (site / top).exists():
                (site / top).symlink_to(source, target_is_directory=source.is_dir())
    return site


def run_isolated(vendored: Path, site: Path, code: str) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a Python that sees the stdlib, the vendored copy and ``site`` only.

    It writes no bytecode, so the module-scoped copy stays as vendored whatever runs first.
    """
    return shipping.run_isolated([vendored, site], code, cwd=site)


def test_vendor_copies_what_the_wheel_ships_without_bytecode(vendored: Path) -> None:
    """The library file for file; of the generated package its models and types, plus py.typed."""
    assert files_in(vendored / "neon_keys") == files_in(OVERLAY)
    assert files_in(vendored / "neon_api_keys_client") == shipped_generated_files()
    assert {"client.py", "errors.py"} & files_in(vendored / "neon_api_keys_client") == set()
    assert not (vendored / "neon_api_keys_client" / "api").exists()
    assert (vendored / "neon_api_keys_client" / "__init__.py").read_bytes() == (
        ROOT / "tools" / "client_init.py"
    ).read_bytes()
    assert not list(vendored.rglob("__pycache__"))
    assert not list(vendored.rglob("*.pyc"))
    assert sorted(p.name for p in vendored.iterdir()) == [
        "VENDORED.txt",
        "neon_api_keys_client",
        "neon_keys",
    ]


def test_vendored_copy_runs_every_operation_without_the_generated_package(
    vendored: Path, tmp_path: Path
) -> None:
    """Against the emulator the copy serves all eight operations from neon_keys alone."""
    seen = exercise(vendored, tmp_path)
    assert Path(seen["neon_keys"]).parent == vendored / "neon_keys"
    assert seen["results"] == [
        True,
        True,
        True,
        True,
        "api_key_user",
        ["org-cool-breeze-12345678"],
    ]
    assert seen["modules"] == {}
    assert not list(vendored.rglob("__pycache__"))


def test_every_generated_module_of_the_copy_imports_from_it_alone(
    vendored: Path, tmp_path: Path
) -> None:
    """The typed models a user may import all load from the copy, with httpx and attrs only."""
    modules = modules_in(vendored)
    assert "neon_api_keys_client.models.organization" in modules
    files = import_every_module(vendored, modules, tmp_path)
    assert set(files) == modules
    assert all(Path(file).is_relative_to(vendored) for file in files.values())


def imported_names(tree: ast.AST) -> Iterator[tuple[int, str]]:
    """Each dotted name an import in ``tree`` reaches (``from a import b`` gives ``a.b``)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from ((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            yield from ((node.lineno, f"{node.module}.{alias.name}") for alias in node.names)


def test_the_shipped_subset_is_declared_consistently() -> None:
    """Each excluded path exists in generated/, and neon_keys imports nothing left out."""
    contents = vendor.shipped()
    assert contents.excluded
    assert all((ROOT / path).exists() for path in contents.excluded), contents.excluded
    assert all((ROOT / source).is_file() for source in contents.added)
    shipped = {name.split("/")[0].removesuffix(".py") for name in shipped_generated_files()}
    for module in OVERLAY.rglob("*.py"):
        tree = ast.parse(module.read_text(encoding="utf-8"))
        for line, name in imported_names(tree):
            parts = name.split(".")
            if parts[0] == "neon_api_keys_client":
                # Only the shipped submodules: the generator's own __init__ (Client, ...) is not.
                assert len(parts) > 1 and parts[1] in shipped, (
                    f"{module.relative_to(ROOT)}:{line} imports {name}, which is not shipped"
                )


def test_vendored_txt_records_version_spec_date_and_update(vendored: Path) -> None:
    """VENDORED.txt names the version, the openapi.yaml sha256, the date and how to update."""
    text = (vendored / "VENDORED.txt").read_text(encoding="utf-8")
    sha = hashlib.sha256((ROOT / "openapi.yaml").read_bytes()).hexdigest()
    assert f"version:       {vendor.library_version()} " in text
    assert f"openapi.yaml sha256 {sha}" in text
    assert "vendored on:   2025-11-03" in text
    assert "make vendor DEST=<this folder>" in text
    assert "    httpx" in text
    assert "    attrs" in text


def test_bytecode_in_the_source_is_left_behind(tmp_path: Path) -> None:
    """__pycache__ folders and .pyc files of the source tree are not copied."""
    root = tmp_path / "project"
    for name in ("overlay", "generated", "tools", "pyproject.toml", "openapi.yaml"):
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, root / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copyfile(source, root / name)
    cache = root / "overlay" / "neon_keys" / "__pycache__"
    cache.mkdir()
    (cache / "_client.cpython-311.pyc").write_bytes(b"\0")
    (root / "overlay" / "neon_keys" / "stray.pyc").write_bytes(b"\0")
    vendor.vendor(tmp_path / "out", root=root, today=DAY)
    assert not list((tmp_path / "out").rglob("__pycache__"))
    assert not list((tmp_path / "out").rglob("*.pyc"))


def test_vendoring_again_replaces_the_packages(tmp_path: Path) -> None:
    """A second run replaces the previous copy whole, so stale files disappear."""
    vendor.vendor(tmp_path, today=DAY)
    stale = tmp_path / "neon_keys" / "_removed_upstream.py"
    stale.write_text("", encoding="utf-8")
    vendor.vendor(tmp_path, today=DAY)
    assert not stale.exists()
    assert (tmp_path / "neon_keys" / "__init__.py").is_file()


def test_vendor_refuses_to_replace_foreign_packages(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A neon_keys folder that was not vendored is left alone, with a one-line error."""
    (tmp_path / "neon_keys").mkdir()
    (tmp_path / "neon_keys" / "mine.py").write_text("", encoding="utf-8")
    assert vendor.main([str(tmp_path)]) == 1
    assert "refusing to replace" in capsys.readouterr().err
    assert (tmp_path / "neon_keys" / "mine.py").exists()
    assert vendor.main([]) == 2


def test_vendor_refuses_a_stale_spec_module(tmp_path: Path) -> None:
    """With openapi.yaml changed since `make generate`, vendoring stops and says so."""
    root = tmp_path / "project"
    shutil.copytree(ROOT / "overlay", root / "overlay")
    (root / "openapi.yaml").write_text("openapi: 3.0.3\n", encoding="utf-8")
    with pytest.raises(vendor.VendorError, match="run `make generate` first"):
        vendor.vendor(tmp_path / "out", root=root)


def test_vendored_library_imports_with_only_httpx_and_attrs(
    vendored: Path, only_httpx_and_attrs: Path
) -> None:
    """With only httpx and attrs importable, the vendored neon_keys imports and builds a client."""
    code = (
        "import json, neon_keys\n"
        "from neon_keys import _spec\n"
        'client = neon_keys.NeonKeys(api_key="napi_test", base_url="http://127.0.0.1:9/api/v2")\n'
        "client.close()\n"
        "print(json.dumps({'file': neon_keys.__file__, 'version': neon_keys.__version__,\n"
        "    'sha': _spec.SPEC_SHA256, 'modules': sorted(sys.modules)}))\n"
    )
    result = run_isolated(vendored, only_httpx_and_attrs, code)
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout)
    assert Path(seen["file"]).parent == vendored / "neon_keys"
    assert seen["version"] == vendor.library_version()
    assert seen["sha"] == hashlib.sha256((ROOT / "openapi.yaml").read_bytes()).hexdigest()
    assert not {"click", "starlette", "uvicorn", "yaml"} & set(seen["modules"])


def test_isolation_hides_everything_else(vendored: Path, only_httpx_and_attrs: Path) -> None:
    """The isolated interpreter really cannot import click, starlette or the installed copy."""
    code = (
        "import importlib.util as u\n"
        "print([n for n in ('click', 'starlette', 'uvicorn', 'pytest') if u.find_spec(n)])\n"
    )
    result = run_isolated(vendored, only_httpx_and_attrs, code)
    assert (result.returncode, result.stdout.strip()) == (0, "[]")


IMPORT_FAILURE = (
    "try:\n"
    "    {statement}\n"
    "except ImportError as exc:\n"
    "    print(type(exc).__name__ + ': ' + str(exc))\n"
    "else:\n"
    "    print('imported')\n"
)


@pytest.mark.skipif(
    not (OVERLAY / "testing").exists() and not (OVERLAY / "testing.py").exists(),
    reason="neon_keys.testing is not written yet",
)
def test_testing_without_sandbox_extra_names_the_extra(
    vendored: Path, only_httpx_and_attrs: Path
) -> None:
    """Without starlette the emulator fails on first use with a message naming the extra.

    Importing ``neon_keys.testing`` itself stays cheap and works (its names load lazily), so
    the failure comes from the first name that needs the app.
    """
    code = IMPORT_FAILURE.format(statement="from neon_keys.testing import EmulatorServer")
    result = run_isolated(vendored, only_httpx_and_attrs, code)
    assert result.returncode == 0, result.stderr
    message = result.stdout.strip()
    assert message != "imported", "EmulatorServer imported without the sandbox extra"
    assert message.startswith(("ImportError: ", "ModuleNotFoundError: ")), message
    assert "sandbox" in message, message
    assert message != "ModuleNotFoundError: No module named 'starlette'", message


@pytest.mark.skipif(
    not (OVERLAY / "cli").exists() and not (OVERLAY / "cli.py").exists(),
    reason="neon_keys.cli is not written yet",
)
def test_cli_without_click_names_what_is_missing(
    vendored: Path, only_httpx_and_attrs: Path
) -> None:
    """Importing the CLI without click fails with a message naming click, not a bare error."""
    code = IMPORT_FAILURE.format(statement="import neon_keys.cli")
    result = run_isolated(vendored, only_httpx_and_attrs, code)
    assert result.returncode == 0, result.stderr
    message = result.stdout.strip()
    assert message != "imported", "neon_keys.cli imported without click"
    assert message.startswith(("ImportError: ", "ModuleNotFoundError: ")), message
    assert "click" in message, message
    assert message != "ModuleNotFoundError: No module named 'click'", message
