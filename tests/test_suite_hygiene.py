"""The test suite's own hygiene: tests that can fail, files only under tmp_path, any order.

Static checks over every file in ``tests/`` (``ast``), and the behaviour of the plugin in
``tests/hygiene.py`` that runs each test in its own folder and fails a run that changed the
checkout.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import hygiene
import pytest

TESTS = Path(__file__).resolve().parent
# The pytest helpers that make a test fail by themselves.
FAILING_HELPERS = frozenset({"raises", "warns", "fail", "deprecated_call"})
SUBPROCESS_CALLS = frozenset({"run", "Popen", "call", "check_call", "check_output"})
# Tests whose assertions are elsewhere by design, each with the reason.
ASSERTS_ELSEWHERE: dict[str, str] = {}


FILES = [
    (path, ast.parse(path.read_text(encoding="utf-8"), str(path)))
    for path in sorted(TESTS.rglob("*.py"))
]


def _called_names(node: ast.AST) -> set[str]:
    names = set()
    for call in ast.walk(node):
        if isinstance(call, ast.Call):
            func = call.func
            if isinstance(func, ast.Attribute):
                names.add(func.attr)
            elif isinstance(func, ast.Name):
                names.add(func.id)
    return names


def _fails_by_itself(node: ast.AST) -> bool:
    """Whether ``node`` holds an ``assert`` or a ``pytest.raises``-like call."""
    for inner in ast.walk(node):
        if isinstance(inner, ast.Assert):
            return True
        if (
            isinstance(inner, ast.Call)
            and isinstance(inner.func, ast.Attribute)
            and isinstance(inner.func.value, ast.Name)
            and inner.func.value.id == "pytest"
            and inner.func.attr in FAILING_HELPERS
        ):
            return True
    return False


def asserting_helpers() -> set[str]:
    """Names of the suite's functions that assert, directly or through another such function."""
    functions: dict[str, list[ast.AST]] = {}
    for _, tree in FILES:
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                functions.setdefault(node.name, []).append(node)
    found = {
        name
        for name, nodes in functions.items()
        if not name.startswith("test_") and any(_fails_by_itself(n) for n in nodes)
    }
    grew = True
    while grew:
        grew = False
        for name, nodes in functions.items():
            calls_one = any(_called_names(n) & found for n in nodes)
            if name not in found and not name.startswith("test_") and calls_one:
                found.add(name)
                grew = True
    return found


def defined_tests(tree: ast.Module) -> Iterator[ast.FunctionDef | ast.AsyncFunctionDef]:
    """The test functions and methods of a module."""
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith(
            "test_"
        ):
            yield node


def test_every_test_can_fail() -> None:
    """Each test asserts, expects an exception, or calls a helper of the suite that asserts."""
    helpers = asserting_helpers()
    silent = []
    for path, tree in FILES:
        for node in defined_tests(tree):
            where = f"{path.relative_to(TESTS.parent).as_posix()}::{node.name}"
            if where in ASSERTS_ELSEWHERE or _fails_by_itself(node):
                continue
            if not _called_names(node) & helpers:
                silent.append(f"{where} (line {node.lineno})")
    assert silent == [], "tests that assert nothing:\n" + "\n".join(silent)


def test_the_exceptions_are_still_there() -> None:
    """Every test excused from asserting exists (a stale exception hides nothing)."""
    names = {
        f"{path.relative_to(TESTS.parent).as_posix()}::{node.name}"
        for path, tree in FILES
        for node in defined_tests(tree)
    }
    assert set(ASSERTS_ELSEWHERE) <= names


def test_every_subprocess_gets_a_working_folder() -> None:
    """Each subprocess a test starts is given ``cwd``, so what it writes lands where intended."""
    missing = []
    for path, tree in FILES:
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
                continue
            target = node.func.value
            if (
                isinstance(target, ast.Name)
                and target.id == "subprocess"
                and node.func.attr in SUBPROCESS_CALLS
                and not any(keyword.arg == "cwd" for keyword in node.keywords)
            ):
                missing.append(f"{path.relative_to(TESTS.parent).as_posix()}:{node.lineno}")
    assert missing == [], "subprocesses without cwd:\n" + "\n".join(missing)


# -- the plugin ------------------------------------------------------------------------------


def test_each_test_runs_in_its_own_folder(tmp_path: Path) -> None:
    """The working folder is this test's tmp_path, so a relative write lands there."""
    assert Path.cwd() == tmp_path
    Path("relative.txt").write_text("x", encoding="utf-8")
    assert (tmp_path / "relative.txt").is_file()


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A small checkout: a file, a cache folder and a compiled file."""
    root = tmp_path / "checkout"
    (root / "pkg" / "__pycache__").mkdir(parents=True)
    (root / "pkg" / "mod.py").write_text("x = 1\n", encoding="utf-8")
    (root / "pkg" / "__pycache__" / "mod.pyc").write_bytes(b"\0")
    (root / ".hypothesis").mkdir()
    return root


_LEAKY_TESTS = """
import socket


def test_leaves_a_connection_open():
    with socket.create_server(("127.0.0.1", 0)) as server:
        client = socket.create_connection(server.getsockname(), timeout=5)
        cycle = [client]
        cycle.append(cycle)  # only the cycle collector can free it, at a moment of its own


def test_after_it():
    pass
"""


@pytest.mark.parametrize("plugin", ["hygiene", "no:hygiene"])
def test_a_connection_left_open_fails_the_test_that_left_it(tmp_path: Path, plugin: str) -> None:
    """A test that leaves a connected socket for the garbage collector errors in its own
    teardown, and the next test passes; without the plugin the error lands elsewhere."""
    (tmp_path / "test_leaky.py").write_text(textwrap.dedent(_LEAKY_TESTS), encoding="utf-8")
    (tmp_path / "pytest.ini").write_text("[pytest]\nfilterwarnings = error\n", encoding="utf-8")
    options = ["-p", plugin, "-p", "no:randomly", "-p", "no:cacheprovider"]
    if plugin == "hygiene":
        options += ["-o", "checkout_guard=false"]
    ran = subprocess.run(
        [sys.executable, "-m", "pytest", "-rA", *options, "test_leaky.py"],
        check=False,
        cwd=tmp_path,
        env={"PYTHONPATH": str(TESTS), "PATH": ""},
        capture_output=True,
        text=True,
        timeout=60,
    )
    blamed = "ERROR at teardown of test_leaves_a_connection_open" in ran.stdout
    if plugin == "hygiene":
        assert blamed and ran.returncode == 1, ran.stdout
        assert "PASSED test_leaky.py::test_after_it" in ran.stdout
    else:
        assert not blamed, ran.stdout


def test_a_snapshot_sees_new_changed_and_deleted_files(tree: Path) -> None:
    """Created, changed and deleted files are each named; caches and bytecode are not."""
    before = hygiene.snapshot(tree)
    assert set(before) == {"pkg/mod.py"}
    (tree / "a.token").write_text("napi_x", encoding="utf-8")
    (tree / "pkg" / "mod.py").write_text("x = 22\n", encoding="utf-8")
    (tree / ".hypothesis" / "examples").write_text("", encoding="utf-8")
    (tree / "pkg" / "__pycache__" / "other.pyc").write_bytes(b"\0")
    after = hygiene.snapshot(tree)
    assert hygiene.changes(before, after) == ["created  a.token", "changed  pkg/mod.py"]
    (tree / "pkg" / "mod.py").unlink()
    assert hygiene.changes(after, hygiene.snapshot(tree)) == ["deleted  pkg/mod.py"]


class _Reporter:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def ensure_newline(self) -> None:
        pass

    def write_sep(self, sep: str, title: str, **markup: Any) -> None:
        self.lines.append(title)

    def write_line(self, line: str, **markup: Any) -> None:
        self.lines.append(line)


def _session(reporter: _Reporter, status: int, guard: bool = True) -> Any:
    plugins = SimpleNamespace(get_plugin=lambda name: reporter)
    return SimpleNamespace(
        stash=pytest.Stash(),
        config=SimpleNamespace(pluginmanager=plugins, getini=lambda name: guard),
        exitstatus=status,
    )


def test_a_run_that_changed_the_checkout_fails_naming_the_files(
    tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A green run that left a file in the checkout ends with a failing status and the file."""
    monkeypatch.setattr(hygiene, "CHECKOUT", tree)
    reporter = _Reporter()
    session = _session(reporter, pytest.ExitCode.OK)
    hygiene.pytest_sessionstart(session)
    (tree / "a").write_text("napi_live_token", encoding="utf-8")
    hygiene.pytest_sessionfinish(session, pytest.ExitCode.OK)
    assert session.exitstatus == pytest.ExitCode.TESTS_FAILED
    assert "created  a" in reporter.lines
    assert "the checkout changed while the tests ran" in reporter.lines


def test_the_check_can_be_switched_off(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With checkout_guard false (long measurement runs), a changed checkout is not a failure."""
    monkeypatch.setattr(hygiene, "CHECKOUT", tree)
    reporter = _Reporter()
    session = _session(reporter, pytest.ExitCode.OK, guard=False)
    hygiene.pytest_sessionstart(session)
    (tree / "edited-meanwhile.py").write_text("", encoding="utf-8")
    hygiene.pytest_sessionfinish(session, pytest.ExitCode.OK)
    assert (session.exitstatus, reporter.lines) == (pytest.ExitCode.OK, [])


def test_an_unchanged_checkout_leaves_the_status_alone(
    tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without a change the run's own status stands and nothing is printed."""
    monkeypatch.setattr(hygiene, "CHECKOUT", tree)
    for status in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
        reporter = _Reporter()
        session = _session(reporter, status)
        hygiene.pytest_sessionstart(session)
        hygiene.pytest_sessionfinish(session, status)
        assert (session.exitstatus, reporter.lines) == (status, [])


def test_the_seed_is_printed_with_the_command_that_replays_it() -> None:
    """The end of a run names the random order's seed and how to run that order again."""
    reporter = _Reporter()
    config = SimpleNamespace(
        option=SimpleNamespace(randomly_seed=1234),
        pluginmanager=SimpleNamespace(has_plugin=lambda name: name == "randomly"),
    )
    hygiene.pytest_terminal_summary(reporter, 0, config)  # type: ignore[arg-type]
    (line,) = reporter.lines
    assert "seed 1234" in line and "make test PYTEST_ARGS=--randomly-seed=1234" in line


def test_the_suite_runs_in_random_order(pytestconfig: pytest.Config) -> None:
    """pytest-randomly is active in a plain run, with an integer seed to print."""
    if pytestconfig.getoption("-p") and "no:randomly" in pytestconfig.getoption("-p"):
        pytest.skip("random order switched off on the command line")
    assert pytestconfig.pluginmanager.has_plugin("randomly")
    assert isinstance(pytestconfig.option.randomly_seed, int)


def test_no_hypothesis_test_checks_time() -> None:
    """Hypothesis's time limit per example, and its check that data is generated fast
    enough, are off for the whole suite."""
    from hypothesis import HealthCheck, settings

    assert settings().deadline is None
    assert HealthCheck.too_slow in settings().suppress_health_check
