"""overlay/neon_keys/_spec.py records which openapi.yaml the library was built from."""

from __future__ import annotations

import hashlib
import importlib.metadata
import re
import runpy
from pathlib import Path

import generate
import pytest
from neon_keys import _spec

ROOT = Path(__file__).resolve().parents[2]


def test_spec_sha256_matches_openapi_yaml() -> None:
    """SPEC_SHA256 is the sha256 of openapi.yaml as committed."""
    actual = hashlib.sha256((ROOT / "openapi.yaml").read_bytes()).hexdigest()
    assert actual == _spec.SPEC_SHA256, (
        "overlay/neon_keys/_spec.py does not match openapi.yaml; run `make generate`"
    )


def test_spec_release_names_a_year_and_month_or_a_year() -> None:
    """SPEC_RELEASE is a Neon release in YYYY-MM form, or YYYY for an undated description."""
    assert re.fullmatch(r"20\d\d(-(0[1-9]|1[0-2]))?", _spec.SPEC_RELEASE)


def test_spec_module_is_exactly_what_make_generate_writes() -> None:
    """`make generate` would leave the committed _spec.py untouched."""
    assert generate.spec_module_is_current(), (
        "overlay/neon_keys/_spec.py is not what `make generate` writes; run `make generate`"
    )


def test_generate_rewrites_a_stale_hash_and_keeps_the_release(tmp_path: Path) -> None:
    """A changed description makes the module stale; writing it updates only the hash."""
    spec = tmp_path / "openapi.yaml"
    module = tmp_path / "_spec.py"
    spec.write_bytes(b"openapi: 3.0.3\n")
    module.write_text(generate.spec_module_text("0" * 64, "2031-04"), encoding="utf-8")
    assert not generate.spec_module_is_current(module, spec)
    assert generate.write_spec_module(module, spec)
    assert generate.spec_module_is_current(module, spec)
    assert not generate.write_spec_module(module, spec)
    namespace = runpy.run_path(str(module))
    assert namespace["SPEC_SHA256"] == hashlib.sha256(b"openapi: 3.0.3\n").hexdigest()
    assert namespace["SPEC_RELEASE"] == "2031-04"


def test_generate_refuses_a_module_without_release(tmp_path: Path) -> None:
    """Without a SPEC_RELEASE line to keep, generate stops with a message instead of guessing."""
    spec = tmp_path / "openapi.yaml"
    spec.write_bytes(b"openapi: 3.0.3\n")
    with pytest.raises(SystemExit, match="no SPEC_RELEASE"):
        generate.write_spec_module(tmp_path / "missing.py", spec)


def test_the_generator_version_is_read_from_pyproject() -> None:
    """The pin tools/generate.py enforces is pyproject's, and it is the installed version."""
    pinned = generate.pinned_generator_version()
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert f'"openapi-python-client=={pinned}"' in text
    assert importlib.metadata.version("openapi-python-client") == pinned
    assert pinned not in (ROOT / "tools" / "generate.py").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("openapi-python-client>=0.29", "one exact version"),
        ("openapi-python-client==0.29.*", "one exact version"),
        ("openapi-python-client==0.29.1,!=0.30", "one exact version"),
        ("pytest==9.2.0", "no openapi-python-client pin"),
    ],
)
def test_a_loose_or_missing_generator_pin_is_refused(
    tmp_path: Path, line: str, message: str
) -> None:
    """Generation needs one exact generator version; anything else stops with the reason."""
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(
        f'[project]\nname = "x"\n[project.optional-dependencies]\ndev = ["{line}"]\n',
        encoding="utf-8",
    )
    with pytest.raises(SystemExit, match=message):
        generate.pinned_generator_version(pyproject)
