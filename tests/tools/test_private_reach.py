"""No code reaches into another object's private members beyond a fixed budget.

``x._name`` with ``x`` neither ``self`` nor ``cls`` (dunder names aside, same-module uses
included) is a use of a private member across an object boundary: the object offers no
interface for it. The budgets are the design's limits (6 in the package, 2 in
``neon_keys.testing``); the code as it stands has no such use at all (34 and 19 before the
client, its resources and the emulator got real interfaces). Lower them, never raise them.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from private_reach import PACKAGE, Use, private_uses, uses_in

# The most private reaches allowed in overlay/neon_keys (neon_keys.testing included).
MAX_PRIVATE_REACH = 6
# The most private reaches allowed in neon_keys.testing.
MAX_PRIVATE_REACH_TESTING = 2


def test_the_package_stays_within_its_budget() -> None:
    """overlay/neon_keys uses another object's private members at most MAX_PRIVATE_REACH times."""
    found = private_uses()
    listing = "\n".join(f"{u.path}:{u.line}  {u.expression}" for u in found)
    assert len(found) <= MAX_PRIVATE_REACH, f"{len(found)} private reaches:\n{listing}"


def test_the_emulator_stays_within_its_budget() -> None:
    """neon_keys.testing uses private members across objects at most MAX_PRIVATE_REACH_TESTING."""
    found = private_uses(PACKAGE / "testing")
    listing = "\n".join(f"testing/{u.path}:{u.line}  {u.expression}" for u in found)
    assert len(found) <= MAX_PRIVATE_REACH_TESTING, f"{len(found)} private reaches:\n{listing}"


def _uses(source: str) -> list[str]:
    return [use.expression for use in uses_in(ast.parse(source), "m.py")]


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("self._a\ncls._b\n", []),
        ("other._a\n", ["other._a"]),
        ("self._client._execute()\n", ["self._client._execute"]),
        ("obj.__dict__\nobj.__class__\n", []),
        ("world.log._begin()\n", ["world.log._begin"]),
        ("module._private_function()\nmodule.public\n", ["module._private_function"]),
        ("def f(x):\n    return x._value == 1\n", ["x._value"]),
        ("x._\n", ["x._"]),
    ],
)
def test_what_counts_as_a_private_reach(source: str, expected: list[str]) -> None:
    """Only ``x._name`` outside self/cls counts; dunders and public names do not."""
    assert _uses(source) == expected


def test_uses_name_their_place(tmp_path: Path) -> None:
    """Each use names its file (relative, with /) and line."""
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "mod.py").write_text("a = 1\nb = other._secret\n", encoding="utf-8")
    assert private_uses(tmp_path) == [Use("sub/mod.py", 2, "other._secret")]
