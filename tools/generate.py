"""Regenerate ``generated/neon_api_keys_client`` from ``openapi.yaml``, or check it is current.

    python tools/generate.py            # rewrite generated/neon_api_keys_client
    python tools/generate.py --check    # regenerate into a temporary folder, fail on any difference

The generator's input is ``openapi.yaml`` after ``tools/relax_spec.py``; its options are in
``generator.yaml``; its version is the ``openapi-python-client==`` pin of the ``dev`` extra in
``pyproject.toml`` (the one place it is written), and generation refuses any other installed
version. The output folder is replaced whole, so files the generator no longer write do not
linger.

``overlay/neon_keys/_spec.py`` records which description the library was built from: the
sha256 of ``openapi.yaml`` (rewritten here whenever it changes; ``--check`` fails when it is
stale) and ``SPEC_RELEASE``, the Neon release it states, which is kept as it is and changed by
hand when re-pinning (see MAINTAINING.md).
"""

from __future__ import annotations

import filecmp
import hashlib
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "neon_api_keys_client"
TARGET = ROOT / "generated" / PACKAGE
GENERATOR = "openapi-python-client"
PYPROJECT = ROOT / "pyproject.toml"
SPEC = ROOT / "openapi.yaml"
SPEC_MODULE = ROOT / "overlay" / "neon_keys" / "_spec.py"
SPEC_MODULE_TEMPLATE = '''"""Which API description this library was built from.

``SPEC_SHA256`` is the sha256 of ``openapi.yaml``: ``make generate`` rewrites it, and
``make check-generated`` and the tests fail when it is stale. ``SPEC_RELEASE`` names the Neon
release whose facts ``openapi.yaml`` states: the year and month Neon published it
(``2025-10``), or the year alone for a description Neon did not date (``2026``). It is changed
by hand when the pinned description is updated (see MAINTAINING.md).
"""

from typing import Final

SPEC_SHA256: Final = "{sha256}"
SPEC_RELEASE: Final = "{release}"
'''


def pinned_generator_version(pyproject: Path = PYPROJECT) -> str:
    """The generator version pinned with ``==`` in the ``dev`` extra of ``pyproject.toml``."""
    with pyproject.open("rb") as handle:
        extras = tomllib.load(handle).get("project", {}).get("optional-dependencies", {})
    for line in extras.get("dev", ()):
        try:
            requirement = Requirement(line)
        except InvalidRequirement:
            continue
        if canonicalize_name(requirement.name) != GENERATOR:
            continue
        pins = [spec for spec in requirement.specifier if spec.operator == "=="]
        if len(pins) != 1 or len(requirement.specifier) != 1 or "*" in pins[0].version:
            raise SystemExit(
                f"{pyproject}: {GENERATOR} must be pinned to one exact version "
                f"(found {line!r}), so that generation is reproducible"
            )
        return pins[0].version
    raise SystemExit(f"{pyproject}: no {GENERATOR} pin in the dev extra")


def spec_sha256(spec: Path = SPEC) -> str:
    """The sha256 (hex) of the pinned description's bytes."""
    return hashlib.sha256(spec.read_bytes()).hexdigest()


def spec_module_text(sha256: str, release: str) -> str:
    """The source of ``_spec.py`` for a description hash and a Neon release."""
    return SPEC_MODULE_TEMPLATE.format(sha256=sha256, release=release)


def current_release(module: Path = SPEC_MODULE) -> str:
    """The ``SPEC_RELEASE`` recorded in ``_spec.py`` (kept when the hash is rewritten)."""
    text = module.read_text(encoding="utf-8") if module.exists() else ""
    found = re.search(r'^SPEC_RELEASE: Final = "([^"]+)"$', text, re.MULTILINE)
    if not found:
        raise SystemExit(f"{module}: no SPEC_RELEASE line; restore the file from version control")
    return found.group(1)


def spec_module_is_current(module: Path = SPEC_MODULE, spec: Path = SPEC) -> bool:
    """Whether ``_spec.py`` is exactly what this script would write for ``spec``."""
    expected = spec_module_text(spec_sha256(spec), current_release(module))
    return module.read_text(encoding="utf-8") == expected


def write_spec_module(module: Path = SPEC_MODULE, spec: Path = SPEC) -> bool:
    """Rewrite ``_spec.py`` if it is stale; return whether it was written."""
    if spec_module_is_current(module, spec):
        return False
    text = spec_module_text(spec_sha256(spec), current_release(module))
    module.write_text(text, encoding="utf-8", newline="\n")
    return True


def generate_into(folder: Path) -> Path:
    """Run the pinned generator on the relaxed spec; return the package folder it wrote."""
    relaxed = folder / "relaxed-openapi.json"
    with relaxed.open("w", encoding="utf-8") as out:
        subprocess.run(
            [sys.executable, str(ROOT / "tools" / "relax_spec.py"), str(ROOT / "openapi.yaml")],
            stdout=out,
            check=True,
        )
    output = folder / PACKAGE
    subprocess.run(
        [
            sys.executable,
            "-m",
            "openapi_python_client",
            "generate",
            "--path",
            str(relaxed),
            "--config",
            str(ROOT / "generator.yaml"),
            "--meta",
            "none",
            "--output-path",
            str(output),
            "--fail-on-warning",
        ],
        check=True,
        cwd=folder,
        stdout=subprocess.DEVNULL,
    )
    return output


def differences(left: Path, right: Path) -> list[str]:
    """Paths (relative to the package) that differ between two generated trees."""
    found: list[str] = []

    def walk(cmp: filecmp.dircmp[str], prefix: str) -> None:
        found.extend(f"{prefix}{name} (only in committed)" for name in cmp.left_only)
        found.extend(f"{prefix}{name} (only in regenerated)" for name in cmp.right_only)
        for name in cmp.common_files:
            if (Path(cmp.left) / name).read_bytes() != (Path(cmp.right) / name).read_bytes():
                found.append(f"{prefix}{name}")
        for name, sub in cmp.subdirs.items():
            walk(sub, f"{prefix}{name}/")

    walk(filecmp.dircmp(left, right, ignore=["__pycache__"]), "")
    return sorted(found)


def main(argv: list[str]) -> int:
    from importlib.metadata import version

    pinned, installed = pinned_generator_version(), version(GENERATOR)
    if installed != pinned:
        print(
            f"{GENERATOR} {pinned} is pinned in pyproject.toml; {installed} is installed "
            "(run `make setup`)",
            file=sys.stderr,
        )
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        fresh = generate_into(Path(tmp))
        if "--check" in argv:
            changed = (
                differences(TARGET, fresh) if TARGET.exists() else ["(generated package missing)"]
            )
            stale_spec = not spec_module_is_current()
            if stale_spec:
                print(
                    f"{SPEC_MODULE.relative_to(ROOT)} is out of date with openapi.yaml; "
                    "run `make generate`",
                    file=sys.stderr,
                )
            if changed:
                print(
                    "generated/ is out of date with openapi.yaml; run `make generate`:",
                    file=sys.stderr,
                )
                for path in changed:
                    print(f"  {path}", file=sys.stderr)
            if changed or stale_spec:
                return 1
            print("generated/ and _spec.py match openapi.yaml")
            return 0
        if TARGET.exists():
            shutil.rmtree(TARGET)
        shutil.copytree(fresh, TARGET, ignore=shutil.ignore_patterns("__pycache__"))
        print(f"wrote {TARGET.relative_to(ROOT)}")
    if write_spec_module():
        print(f"wrote {SPEC_MODULE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
