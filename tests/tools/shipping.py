"""What the wheel and a vendored copy must do: run the library with nothing but their files.

``EXERCISE`` drives every covered operation through ``NeonKeys`` against the in-process
emulator (an error answer included) and prints, as JSON, where ``neon_keys`` was imported from
and every module of the generated package that got imported, with its file (none: the library
reads answers with its own checked readers, held to the generated models by the tests).
``import_every_module`` imports each shipped module of the generated package, as a user of
its typed models would.
"""

from __future__ import annotations

import json
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Any

GENERATED = "neon_api_keys_client"

EXERCISE = """
import json, sys
import httpx
import neon_keys
from neon_keys import NeonKeys, NotFoundError
from neon_keys.testing import EmulatorTransport, World

world = World.seeded()
transport = EmulatorTransport(world)
with (
    httpx.Client(transport=transport) as http,
    NeonKeys(api_key=world.seed.admin_token, base_url=transport.base_url, http_client=http) as neon,
):
    key = neon.personal_keys.create("shipped")
    listed = [k.id for k in neon.personal_keys.list()]
    gone = neon.personal_keys.revoke(key.id)
    try:
        neon.personal_keys.revoke(key.id)
        missing = False
    except NotFoundError:
        missing = True
    keys = neon.org(world.seed.org_id).keys
    project_key = keys.create("shipped-preview", project_id=world.seed.project_id)
    org_listed = [k.id for k in keys.list()]
    keys.revoke(project_key.id)
    caller = neon.whoami().auth_method
    orgs = [o.id for o in neon.organizations()]
modules = {
    name: module.__file__
    for name, module in sorted(sys.modules.items())
    if name.split(".")[0] == "neon_api_keys_client"
}
print(json.dumps({
    "neon_keys": neon_keys.__file__,
    "results": [
        key.id in listed, gone.revoked, missing, project_key.id in org_listed, caller, orgs
    ],
    "modules": modules,
}))
"""


def site_packages() -> Path:
    """This environment's site-packages (added as a plain folder, so no ``.pth`` applies)."""
    return Path(sysconfig.get_paths()["purelib"])


def run_isolated(paths: list[Path], code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a Python that sees the stdlib and ``paths`` only, writing no bytecode."""
    prelude = f"import sys; sys.path[:0] = {[str(path) for path in paths]!r}\n"
    return subprocess.run(
        [sys.executable, "-I", "-S", "-B", "-c", prelude + code],
        capture_output=True,
        text=True,
        check=False,
        cwd=cwd,
        timeout=120,
    )


def exercise(root: Path, cwd: Path) -> dict[str, Any]:
    """Run ``EXERCISE`` on the packages in ``root`` (with this environment's dependencies)."""
    result = run_isolated([root, site_packages()], EXERCISE, cwd)
    assert result.returncode == 0, result.stderr
    seen: dict[str, Any] = json.loads(result.stdout)
    return seen


def import_every_module(root: Path, modules: set[str], cwd: Path) -> dict[str, str]:
    """Import each of ``modules`` from the packages in ``root``; their files, by name."""
    code = (
        "import importlib, json\n"
        f"names = {sorted(modules)!r}\n"
        "print(json.dumps({n: importlib.import_module(n).__file__ for n in names}))\n"
    )
    result = run_isolated([root, site_packages()], code, cwd)
    assert result.returncode == 0, result.stderr
    files: dict[str, str] = json.loads(result.stdout)
    return files


def modules_in(root: Path, package: str = GENERATED) -> set[str]:
    """The dotted names of the Python modules of ``package`` under ``root``."""
    names = set()
    for path in (root / package).rglob("*.py"):
        parts = path.relative_to(root).with_suffix("").parts
        names.add(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def files_in(package: Path) -> set[str]:
    """The files of a package tree, relative to it, without compiled files."""
    return {
        path.relative_to(package).as_posix()
        for path in package.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    }
