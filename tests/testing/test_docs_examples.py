"""Every Python example in docs/testing.md runs as written."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "testing.md"
BLOCKS = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.DOTALL)
SCRIPTS = [block for block in BLOCKS if "def test_" not in block]
TEST_MODULES = [block for block in BLOCKS if "def test_" in block]


def test_the_document_has_both_kinds_of_example() -> None:
    """The page shows plugin-based tests and standalone scripts."""
    assert len(TEST_MODULES) >= 1 and len(SCRIPTS) >= 4


@pytest.mark.parametrize("source", SCRIPTS, ids=lambda s: s.splitlines()[-1].strip()[:40])
def test_script_example_runs(source: str) -> None:
    """A standalone example runs to the end, its own asserts included."""
    exec(compile(source, str(DOC), "exec"), {"__name__": "docs_example"})  # noqa: S102


@pytest.mark.parametrize("source", TEST_MODULES, ids=lambda s: s.splitlines()[0][:40])
def test_plugin_example_passes_under_pytest(source: str, tmp_path: Path) -> None:
    """An example test module passes when pytest runs it with the installed plugin."""
    (tmp_path / "test_example.py").write_text(source, encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
        timeout=120,
    )
    tests = source.count("def test_")
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{tests} passed" in result.stdout
