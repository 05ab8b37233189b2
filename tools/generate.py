"""Regenerate ``generated/neon_api_keys_client`` from ``openapi.yaml``, or check it is current.

    python tools/generate.py            # rewrite generated/neon_api_keys_client
    python tools/generate.py --check    # regenerate into a temporary folder, fail on any difference

The generator's input is ``openapi.yaml`` after ``tools/relax_spec.py``; its options are in
``generator.yaml``. The output folder is replaced whole, so files the generator no longer
writes do not linger.
"""

from __future__ import annotations

import filecmp
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "neon_api_keys_client"
TARGET = ROOT / "generated" / PACKAGE
GENERATOR_VERSION = "0.29.1"


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

    installed = version("openapi-python-client")
    if installed != GENERATOR_VERSION:
        print(
            f"openapi-python-client {GENERATOR_VERSION} is pinned; {installed} is installed",
            file=sys.stderr,
        )
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        fresh = generate_into(Path(tmp))
        if "--check" in argv:
            changed = (
                differences(TARGET, fresh) if TARGET.exists() else ["(generated package missing)"]
            )
            if changed:
                print(
                    "generated/ is out of date with openapi.yaml; run `make generate`:",
                    file=sys.stderr,
                )
                for path in changed:
                    print(f"  {path}", file=sys.stderr)
                return 1
            print("generated/ matches openapi.yaml")
            return 0
        if TARGET.exists():
            shutil.rmtree(TARGET)
        shutil.copytree(fresh, TARGET, ignore=shutil.ignore_patterns("__pycache__"))
        print(f"wrote {TARGET.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
