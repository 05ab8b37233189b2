"""tools/vendor.py: a copy of the library that works with only httpx and attrs installed."""

from __future__ import annotations

import datetime
import hashlib
import json
import shutil
import subprocess
import sys
from importlib.metadata import Distribution, distribution
from pathlib import Path

import pytest
import vendor
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
OVERLAY = ROOT / "overlay" / "neon_keys"
DAY = datetime.date(2025, 11, 3)


def python_files(package: Path) -> set[str]:
    """The files of a package tree, relative to it, without compiled files."""
    return {
        str(path.relative_to(package))
        for path in package.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    }


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
    """Run ``code`` in a Python that sees the stdlib, the vendored copy and ``site`` only."""
    prelude = f"import sys; sys.path[:0] = [{str(vendored)!r}, {str(site)!r}]\n"
    return subprocess.run(
        [sys.executable, "-I", "-S", "-c", prelude + code],
        capture_output=True,
        text=True,
        check=False,
        cwd=vendored,
        timeout=60,
    )


def test_vendor_copies_both_packages_without_bytecode(vendored: Path) -> None:
    """Both packages are copied file for file, plus py.typed, without __pycache__."""
    assert python_files(vendored / "neon_keys") == python_files(OVERLAY)
    generated = ROOT / "generated" / "neon_api_keys_client"
    assert python_files(vendored / "neon_api_keys_client") == python_files(generated) | {"py.typed"}
    assert not list(vendored.rglob("__pycache__"))
    assert not list(vendored.rglob("*.pyc"))
    assert sorted(p.name for p in vendored.iterdir()) == [
        "VENDORED.txt",
        "neon_api_keys_client",
        "neon_keys",
    ]


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
