"""Copy the library into another project's source tree.

    python tools/vendor.py DEST         # or: make vendor DEST=path/to/dir

Writes ``DEST/neon_keys`` (from ``overlay/``) and ``DEST/neon_api_keys_client`` (from
``generated/``), exactly the files the wheel holds: ``pyproject.toml`` says which (the wheel's
``packages``, ``exclude`` and ``force-include``, and the build hook's ``replace``), so the
generator's unused HTTP layer is left out here as it is there. No ``__pycache__`` or compiled
file is copied. ``DEST/VENDORED.txt`` records the library version, the sha256 of
``openapi.yaml`` and its Neon release, the date, the runtime requirements and how to update.
Running it again replaces both packages whole, so files dropped upstream do not linger. It
refuses to write over packages of those names that it did not vendor, and to vendor while
``overlay/neon_keys/_spec.py`` is stale (run ``make generate`` first).

The date is today's (UTC), or that of ``SOURCE_DATE_EPOCH`` when set, for reproducible copies.
"""

from __future__ import annotations

import ast
import datetime
import hashlib
import os
import re
import shutil
import sys
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MARKER = "VENDORED.txt"
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyo")
# Core dependencies needed only by the command line, not by ``import neon_keys``.
CLI_ONLY = frozenset({"click", "python-dotenv"})
EXTRA_USES = {"sandbox": "neon_keys.testing: the emulator and the pytest plugin"}


class VendorError(Exception):
    """Vendoring cannot proceed; the message says why."""


@dataclass(frozen=True)
class Shipped:
    """What the wheel holds, as ``pyproject.toml`` declares it (paths relative to the root).

    ``packages`` maps each package name to its source folder; ``excluded`` are files and
    folders left out; ``added`` maps a source file to its path in the wheel (``force-include``
    and the build hook's ``replace``, which takes the place of an excluded file).
    """

    packages: dict[str, str]
    excluded: frozenset[str]
    added: dict[str, str]


def shipped(root: Path = ROOT) -> Shipped:
    """The wheel's contents as declared in ``pyproject.toml``."""
    with (root / "pyproject.toml").open("rb") as handle:
        wheel = tomllib.load(handle)["tool"]["hatch"]["build"]["targets"]["wheel"]
    packages = {Path(folder).name: folder for folder in wheel["packages"]}
    excluded = frozenset(path.rstrip("/") for path in wheel.get("exclude", ()))
    added = dict(wheel.get("force-include", {}))
    added.update(wheel.get("hooks", {}).get("custom", {}).get("replace", {}))
    return Shipped(packages, excluded, added)


def library_version(root: Path = ROOT) -> str:
    """``__version__`` from ``overlay/neon_keys/_version.py``, read without importing it."""
    return _constant(root / "overlay" / "neon_keys" / "_version.py", "__version__")


def _constant(path: Path, name: str) -> str:
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError) as exc:
        raise VendorError(f"cannot read {path}: {exc}") from None
    for node in tree.body:
        targets: list[ast.expr]
        if isinstance(node, ast.AnnAssign):
            targets, value = [node.target], node.value
        elif isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        else:
            continue
        named = any(isinstance(t, ast.Name) and t.id == name for t in targets)
        if named and isinstance(value, ast.Constant) and isinstance(value.value, str):
            return value.value
    raise VendorError(f"{path} does not define {name} as a string")


def requirements(root: Path = ROOT) -> tuple[list[str], dict[str, list[str]]]:
    """The runtime dependencies and the optional extras declared in ``pyproject.toml``."""
    with (root / "pyproject.toml").open("rb") as handle:
        project = tomllib.load(handle)["project"]
    extras = {
        name: deps
        for name, deps in project.get("optional-dependencies", {}).items()
        if name != "dev"
    }
    return list(project.get("dependencies", [])), extras


def _name(requirement: str) -> str:
    match = re.match(r"[A-Za-z0-9._-]+", requirement)
    return match.group(0).lower() if match else requirement


def vendored_text(root: Path = ROOT, today: datetime.date | None = None) -> str:
    """The contents of ``VENDORED.txt`` for the tree at ``root``."""
    spec_sha = hashlib.sha256((root / "openapi.yaml").read_bytes()).hexdigest()
    release = _constant(root / "overlay" / "neon_keys" / "_spec.py", "SPEC_RELEASE")
    version = library_version(root)
    day = (today or _today()).isoformat()
    deps, extras = requirements(root)
    core = [dep for dep in deps if _name(dep) not in CLI_ONLY]
    cli = [dep for dep in deps if _name(dep) in CLI_ONLY]
    lines = [
        f"neon-api-keys {version}, vendored",
        "",
        "packages:      neon_keys (the library), neon_api_keys_client (its generated models)",
        f"version:       {version} (neon_keys.__version__)",
        f"API spec:      Neon API v2 as published {release}; openapi.yaml sha256 {spec_sha}",
        "               (neon_keys._spec.SPEC_RELEASE and SPEC_SHA256)",
        f"vendored on:   {day}",
        "",
        "Install these in the project that uses this copy:",
        *(f"    {dep}" for dep in core),
    ]
    if cli:
        lines += ["The command line (neon_keys.cli) also needs:", *(f"    {dep}" for dep in cli)]
    for extra, extra_deps in sorted(extras.items()):
        use = f" ({EXTRA_USES[extra]})" if extra in EXTRA_USES else ""
        lines += [
            f"The '{extra}' extra{use} also needs:",
            *(f"    {dep}" for dep in extra_deps),
        ]
    lines += [
        "",
        "Do not edit these files; change neon-api-keys instead. To update, check out",
        "neon-api-keys at the wanted version and run, from its root:",
        "",
        "    make vendor DEST=<this folder>",
        "",
        "It replaces both packages and this file. Read CHANGELOG.md of neon-api-keys for what",
        "changed between versions.",
    ]
    return "\n".join(lines) + "\n"


def _today() -> datetime.date:
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        return datetime.datetime.fromtimestamp(int(epoch), tz=datetime.UTC).date()
    return datetime.datetime.now(tz=datetime.UTC).date()


def _check_spec_identity(root: Path) -> None:
    spec_module = root / "overlay" / "neon_keys" / "_spec.py"
    recorded = _constant(spec_module, "SPEC_SHA256")
    actual = hashlib.sha256((root / "openapi.yaml").read_bytes()).hexdigest()
    if recorded != actual:
        raise VendorError(
            f"{spec_module.relative_to(root)} is out of date with openapi.yaml; "
            "run `make generate` first"
        )


def _ignore(root: Path, excluded: frozenset[str]) -> Callable[[str, list[str]], set[str]]:
    """A ``copytree`` filter leaving out compiled files and the paths the wheel excludes."""

    def ignore(folder: str, names: list[str]) -> set[str]:
        relative = Path(folder).resolve().relative_to(root.resolve())
        left_out = {name for name in names if (relative / name).as_posix() in excluded}
        return left_out | set(IGNORED(folder, names))

    return ignore


def vendor(dest: Path, root: Path = ROOT, today: datetime.date | None = None) -> list[Path]:
    """Copy both packages and ``VENDORED.txt`` into ``dest``; return what was written."""
    _check_spec_identity(root)
    text = vendored_text(root, today)
    contents = shipped(root)
    if dest.exists() and not dest.is_dir():
        raise VendorError(f"{dest} exists and is not a directory")
    ours = (dest / MARKER).is_file()
    for package in contents.packages:
        if (dest / package).exists() and not ours:
            raise VendorError(
                f"{dest / package} exists but {dest} has no {MARKER}; "
                "refusing to replace what this tool did not write"
            )
    dest.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for package, folder in contents.packages.items():
        source, target = root / folder, dest / package
        if not (source / "__init__.py").is_file():
            raise VendorError(f"{source} is not a package")
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(source, target, ignore=_ignore(root, contents.excluded))
        written.append(target)
    for source_path, wheel_path in contents.added.items():
        if Path(wheel_path).parts[0] not in contents.packages:
            continue
        if not (root / source_path).is_file():
            raise VendorError(f"{source_path} (named in pyproject.toml) is missing")
        shutil.copyfile(root / source_path, dest / wheel_path)
    (dest / MARKER).write_text(text, encoding="utf-8", newline="\n")
    written.append(dest / MARKER)
    return written


def main(argv: list[str]) -> int:
    """Vendor into the one directory named on the command line; return the exit status."""
    if len(argv) != 1 or argv[0].startswith("-"):
        print("usage: python tools/vendor.py DEST", file=sys.stderr)
        return 2
    try:
        written = vendor(Path(argv[0]))
    except (VendorError, OSError) as exc:
        print(f"vendor: {exc}", file=sys.stderr)
        return 1
    for path in written:
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
