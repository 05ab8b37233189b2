"""The wheel: exactly the library and the generated models, and it works on its own."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
import vendor
from hatchling.builders.wheel import WheelBuilder
from shipping import exercise, files_in, import_every_module, modules_in

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project's wheel, built as ``python -m build`` would, unpacked into a folder."""
    built = tmp_path_factory.mktemp("dist")
    (path,) = WheelBuilder(str(ROOT)).build(directory=str(built), versions=["standard"])
    unpacked = tmp_path_factory.mktemp("wheel")
    with zipfile.ZipFile(path) as archive:
        archive.extractall(unpacked)
    return unpacked


@pytest.fixture(scope="module")
def vendored(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A vendored copy, to compare with the wheel."""
    dest = tmp_path_factory.mktemp("vendored")
    vendor.vendor(dest)
    return dest


def test_the_wheel_holds_what_a_vendored_copy_holds(wheel: Path, vendored: Path) -> None:
    """The wheel's two packages are file for file the vendored ones: one declaration, one subset."""
    for package in ("neon_keys", "neon_api_keys_client"):
        assert files_in(wheel / package) == files_in(vendored / package), package
    assert not (wheel / "neon_api_keys_client" / "api").exists()
    assert not (wheel / "neon_api_keys_client" / "client.py").exists()
    assert not (wheel / "neon_api_keys_client" / "errors.py").exists()
    assert (wheel / "neon_api_keys_client" / "py.typed").is_file()


def test_the_wheel_runs_every_operation_without_the_generated_package(
    wheel: Path, tmp_path: Path
) -> None:
    """Installed alone, the wheel serves all eight operations from neon_keys alone."""
    seen = exercise(wheel, tmp_path)
    assert Path(seen["neon_keys"]).parent == wheel / "neon_keys"
    assert seen["results"][:4] == [True, True, True, True]
    assert seen["modules"] == {}


def test_every_generated_module_of_the_wheel_imports_from_it_alone(
    wheel: Path, tmp_path: Path
) -> None:
    """The typed models the wheel ships all load from it, for users who import them."""
    modules = modules_in(wheel)
    files = import_every_module(wheel, modules, tmp_path)
    assert set(files) == modules
    assert all(Path(file).is_relative_to(wheel) for file in files.values())


def test_an_editable_install_keeps_the_generators_own_package() -> None:
    """Development reads generated/ as the generator wrote it (the replacement is wheel-only)."""
    import neon_api_keys_client

    assert Path(neon_api_keys_client.__file__).parent == ROOT / "generated" / "neon_api_keys_client"
    assert hasattr(neon_api_keys_client, "Client")
