"""List the places where code reaches into another object's private members.

    python tools/private_reach.py [FOLDER]     # default: overlay/neon_keys

A use is an attribute ``x._name`` where ``x`` is anything but ``self`` or ``cls`` (so
``self._client._execute`` counts once, for ``_execute``); dunder names (``__dict__``) are not
private. Same-module uses count too: a private member is for its own object. The test
``tests/tools/test_private_reach.py`` holds the counts under named limits for the whole
package and for ``neon_keys.testing``. Prints one use a line (``path:line  expression``),
then the counts; exit status 0.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "overlay" / "neon_keys"
OWN = frozenset({"self", "cls"})


@dataclass(frozen=True, order=True)
class Use:
    """One reach into a private member: where, and the expression as written."""

    path: str  # relative to the folder searched, with "/" separators
    line: int
    expression: str


def is_private(name: str) -> bool:
    """Whether an attribute name is private: a leading underscore, not a dunder."""
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def uses_in(tree: ast.AST, path: str) -> Iterator[Use]:
    """The private reaches in one parsed module."""
    for node in ast.walk(tree):
        if not isinstance(node, ast.Attribute) or not is_private(node.attr):
            continue
        if isinstance(node.value, ast.Name) and node.value.id in OWN:
            continue
        yield Use(path, node.lineno, ast.unparse(node))


def private_uses(folder: Path = PACKAGE) -> list[Use]:
    """Every private reach in the Python files under ``folder``, sorted by place."""
    found: list[Use] = []
    for file in sorted(folder.rglob("*.py")):
        relative = file.relative_to(folder).as_posix()
        found.extend(uses_in(ast.parse(file.read_text(encoding="utf-8"), str(file)), relative))
    return sorted(found)


def main(argv: list[str]) -> int:
    """Print the uses under the folder named in ``argv`` (default: the package)."""
    folder = Path(argv[0]) if argv else PACKAGE
    found = private_uses(folder)
    for use in found:
        print(f"{use.path}:{use.line}  {use.expression}")
    testing = [use for use in found if use.path.startswith("testing/")]
    print(f"{len(found)} uses under {folder}; {len(testing)} of them under testing/")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
