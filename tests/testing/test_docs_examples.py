"""Every example in docs/testing.md, and the README's sandbox examples, runs as written.

Python examples run as scripts (or, for test modules, under pytest with the installed
plugin); console examples run in order in one bash session, as a reader would type them,
and what they print must match the page (ports, tokens, process ids and times aside).
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from docs_console import Step, mismatches, normalise, run_steps, steps_of
from sandbox_support import Shell

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "testing.md"
README = ROOT / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.DOTALL)
SCRIPTS = [block for block in BLOCKS if "def test_" not in block]
TEST_MODULES = [block for block in BLOCKS if "def test_" in block]


@pytest.fixture
def shell(tmp_path: Path) -> Iterator[Shell]:
    """A folder to run examples in; no sandbox may be left running from it afterwards."""
    runner = Shell(tmp_path)
    yield runner
    orphans = runner.kill_leftovers()
    assert orphans == [], f"the examples left sandbox processes running: {orphans}"


def test_the_document_has_every_kind_of_example() -> None:
    """The page shows plugin-based tests, standalone scripts and shell sessions."""
    assert len(TEST_MODULES) >= 1 and len(SCRIPTS) >= 6
    assert len(steps_of(DOC.read_text(encoding="utf-8"))) >= 10


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


def test_the_shell_sessions_of_the_page_print_what_it_shows(shell: Shell) -> None:
    """Every console example of docs/testing.md, typed in order, prints what the page shows."""
    steps = steps_of(DOC.read_text(encoding="utf-8"))
    printed = run_steps(steps, shell.folder, shell.env)
    assert mismatches(steps, printed) == [], "\n\n".join(map(str, mismatches(steps, printed)))


def _readme_sandbox_blocks() -> list[list[Step]]:
    text = README.read_text(encoding="utf-8")
    blocks = [
        steps_of(f"```console\n{body}```")
        for body in re.findall(r"```console\n(.*?)```", text, re.DOTALL)
    ]
    return [steps for steps in blocks if any("neon-keys sandbox" in step.command for step in steps)]


@pytest.mark.parametrize("steps", _readme_sandbox_blocks(), ids=lambda steps: steps[0].command[:40])
def test_the_readme_sandbox_examples_print_what_they_show(shell: Shell, steps: list[Step]) -> None:
    """Each README example that runs the sandbox prints what it shows, then stops cleanly."""
    cleanup = Step("neon-keys sandbox stop > /dev/null 2>&1 || true", ())
    printed = run_steps([*steps, cleanup], shell.folder, shell.env)
    assert mismatches([*steps, cleanup], printed) == [], "\n\n".join(
        map(str, mismatches([*steps, cleanup], printed))
    )


def test_a_page_that_disagrees_with_the_program_is_caught(tmp_path: Path) -> None:
    """The comparison fails on one changed word, and ignores only what varies between runs."""
    page = (
        "```console\n"
        "$ printf 'port 127.0.0.1:%s pid (pid %s)\\n' $RANDOM $$\n"
        "port 127.0.0.1:8080 pid (pid 1)\n"
        "$ echo hello\n"
        "hello\n"
        "```\n"
    )
    steps = steps_of(page)
    printed = run_steps(steps, tmp_path, {"PATH": "/usr/bin:/bin"})
    assert mismatches(steps, printed) == []
    broken = steps_of(page.replace("hello\n```", "goodbye\n```"))
    [mismatch] = mismatches(broken, run_steps(broken, tmp_path, {"PATH": "/usr/bin:/bin"}))
    assert mismatch.command == "echo hello" and mismatch.printed == ("hello",)
    assert normalise(["napi_" + "a1" * 30]) == ("napi_TOKEN",)
