"""tools/mutate.py (the mutation package): the mutants it makes, the tests it picks, and a run
over a small project with a killed, a surviving, an unreached and a hanging mutant."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from mutation.cli import CORE, PACKAGE
from mutation.operators import mutants_of
from mutation.run import OWN_TESTS, Coverage

TOOLS = Path(__file__).resolve().parents[2] / "tools"

SAMPLE = textwrap.dedent(
    '''\
    """A module docstring: never mutated."""

    from __future__ import annotations

    import logging
    from typing import TYPE_CHECKING

    if TYPE_CHECKING:
        LIMIT_FOR_TYPES = 3

    __all__ = ["check"]
    log = logging.getLogger(__name__)


    def check(value: int = 5, name: str = "x") -> bool:
        """A docstring."""
        log.debug("checking %s", name)
        log.warning("about to check")
        total = value * 2 + 1
        total += 1
        for item in range(3):
            if item > 1 and not value:
                break
        label = f"{name}: {total:>4}"
        return total >= 10 or label == "y"  # pragma: no mutate (an equivalent change)
    '''
)


def changes(source: str) -> list[tuple[int, str]]:
    """(line, change) of each mutant of ``source``."""
    return [(m.line, m.change) for m in mutants_of(source, "sample.py")]


def test_each_kind_of_mutant_is_made_once_where_it_applies() -> None:
    """Operators, constants, returns, calls and loops are mutated; nothing else is."""
    assert changes(SAMPLE) == [
        (15, "5 -> (6)"),
        (18, 'log.warning("about to check") -> pass'),
        (19, "1 -> (0)"),
        (19, "1 -> (2)"),
        (19, "2 -> (3)"),
        (19, "value * 2 + 1 -> (value * 2 - 1)"),
        (19, "value * 2 -> (value / 2)"),
        (20, "1 -> (0)"),
        (20, "1 -> (2)"),
        (20, "total += 1 -> total -= 1"),
        (21, "3 -> (4)"),
        (22, "1 -> (0)"),
        (22, "1 -> (2)"),
        (22, "item > 1 -> (item >= 1)"),
        (22, "item > 1 and not value -> (item > 1 or not value)"),
        (22, "not value -> (value)"),
        (23, "break -> continue"),
    ]


def test_docstrings_annotations_all_type_checking_fstrings_and_pragmas_are_left_alone() -> None:
    """No mutant touches a line that is documentation, typing, export list or marked."""
    lines = {line for line, _ in changes(SAMPLE)}
    assert not lines & {1, 9, 11, 16, 24, 25}
    assert 17 not in lines  # log.debug: quiet logging is not behaviour


def test_a_mutant_changes_only_its_own_lines_and_compiles() -> None:
    """Every mutant is valid Python and differs from the source only on its node's lines."""
    original = SAMPLE.splitlines()
    for mutant in mutants_of(SAMPLE, "sample.py"):
        compile(mutant.source, "sample.py", "exec")
        mutated = mutant.source.splitlines()
        assert len(mutated) == len(original) - (mutant.end_line - mutant.line)
        assert mutated[: mutant.line - 1] == original[: mutant.line - 1]


def test_replacements_keep_the_meaning_of_what_surrounds_them() -> None:
    """A replaced expression is parenthesised, so precedence around it is unchanged."""
    source = "x = 2 * (3 + 4)\ny = not (True and False)\n"
    results = {}
    for mutant in mutants_of(source, "m.py"):
        namespace: dict[str, object] = {}
        exec(compile(mutant.source, "m.py", "exec"), namespace)  # noqa: S102
        results[mutant.change] = (namespace["x"], namespace["y"])
    assert results["3 + 4 -> (3 - 4)"] == (-2, True)
    assert results["2 * (3 + 4) -> (2 / (3 + 4))"] == (2 / 7, True)
    assert results["True and False -> (True or False)"] == (14, False)
    assert results["not (True and False) -> (True and False)"] == (14, False)


def test_the_core_modules_exist() -> None:
    """Every module make mutate covers by default is a file of the package."""
    assert all((PACKAGE / f"{module}.py").is_file() for module in CORE)
    assert {"_retry", "_base_client", "_parsing", "_pacing", "_secret", "cli/_sinks"} <= set(CORE)


def test_tests_are_chosen_by_line_fastest_first() -> None:
    """A mutant runs the tests that reached its lines; at an import-time line, all of the file's."""
    coverage = Coverage(
        durations={"t::slow": 2.0, "t::fast": 0.1, "t::other": 0.5},
        lines={
            "t::slow": {"m.py": {10, 11}},
            "t::fast": {"m.py": {11}},
            "t::other": {"m.py": {20}, "n.py": {1}},
        },
        import_lines={"m.py": {1, 2}},
        modules=[],
    )
    assert coverage.tests_for("m.py", [11]) == ["t::fast", "t::slow"]
    assert coverage.tests_for("m.py", [10]) == ["t::slow"]
    assert coverage.tests_for("m.py", [30]) == []
    assert coverage.tests_for("m.py", [2]) == ["t::fast", "t::other", "t::slow"]


def test_the_modules_own_tests_run_first_and_always() -> None:
    """For a mutant of _calc.py, test_calc.py's tests run first, however slow, and even where
    another test was the one traced there (code that runs once per process)."""
    coverage = Coverage(
        durations={
            "tests/test_calc.py::slow": 2.0,
            "tests/test_calc.py::elsewhere": 0.5,
            "tests/test_other.py::fast": 0.1,
            "tests/test_other.py::elsewhere": 0.1,
        },
        lines={
            "tests/test_calc.py::slow": {"/p/_calc.py": {3}},
            "tests/test_calc.py::elsewhere": {"/p/_calc.py": {9}},
            "tests/test_other.py::fast": {"/p/_calc.py": {3}},
            "tests/test_other.py::elsewhere": {"/p/_calc.py": {9}},
        },
        import_lines={},
        modules=[],
    )
    assert coverage.tests_for("/p/_calc.py", [3]) == [
        "tests/test_calc.py::elsewhere",
        "tests/test_calc.py::slow",
        "tests/test_other.py::fast",
    ]


def test_tests_named_for_what_they_check_count_as_a_modules_own() -> None:
    """_exceptions.py has no test_exceptions.py: test_errors.py (OWN_TESTS) runs first."""
    assert "test_errors" in OWN_TESTS["_exceptions.py"]
    reach = {"/p/neon_keys/_exceptions.py": {3}}
    coverage = Coverage(
        durations={"tests/test_errors.py::slow": 2.0, "tests/test_other.py::fast": 0.1},
        lines={"tests/test_errors.py::slow": reach, "tests/test_other.py::fast": reach},
        import_lines={},
        modules=[],
    )
    assert coverage.tests_for("/p/neon_keys/_exceptions.py", [3]) == [
        "tests/test_errors.py::slow",
        "tests/test_other.py::fast",
    ]


def test_a_parameter_id_holding_a_double_colon_selects_the_whole_test() -> None:
    """An id pytest may not select by name (``test[http://[::1]:9]``) runs its whole file."""
    ids = ["t.py::test_url[http://[::1]:9]", "t.py::test_url[http://a]", "t.py::test_x[1]"]
    coverage = Coverage(
        durations=dict.fromkeys(ids, 0.1),
        lines={nodeid: {"m.py": {5}} for nodeid in ids},
        import_lines={},
        modules=[],
    )
    assert coverage.tests_for("m.py", [5]) == [
        "t.py",
        "t.py::test_url[http://a]",
        "t.py::test_x[1]",
    ]
    assert coverage.duration("t.py") == pytest.approx(0.3)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A small project: a package whose tests kill one mutant, miss others, and can hang."""
    root = tmp_path / "project"
    (root / "src" / "mini").mkdir(parents=True)
    (root / "tests").mkdir()
    # Imported before any test runs, as the project's own pytest plugin imports its package.
    (root / "tests" / "conftest.py").write_text(
        "import mini.calc  # noqa: F401\n", encoding="utf-8"
    )
    (root / "pyproject.toml").write_text(
        '[tool.pytest.ini_options]\nfilterwarnings = ["error"]\n', encoding="utf-8"
    )
    (root / "src" / "mini" / "__init__.py").write_text("", encoding="utf-8")
    (root / "src" / "mini" / "calc.py").write_text(
        textwrap.dedent(
            """\
            def add(a, b):
                return a + b


            def countdown(n):
                while n > 0:
                    n -= 1
                return n


            def is_big(x):
                return x > 10


            def unused(x):
                return x * 3


            LIMIT = 10


            def over_limit(x):
                return x > LIMIT
            """
        ),
        encoding="utf-8",
    )
    (root / "src" / "mini" / "lazy.py").write_text(
        "FACTOR = 2\n\n\ndef double(x):\n    return x * FACTOR\n", encoding="utf-8"
    )
    (root / "tests" / "test_lazy.py").write_text(
        textwrap.dedent(
            """\
            def test_a_imports_it_first():
                import mini.lazy

                assert mini.lazy


            def test_z_uses_it():
                from mini.lazy import double

                assert double(3) == 6
            """
        ),
        encoding="utf-8",
    )
    (root / "tests" / "test_calc.py").write_text(
        textwrap.dedent(
            """\
            import pytest

            from mini.calc import add, countdown, is_big, over_limit


            def test_add():
                assert add(2, 3) == 5


            # An id holding "//" must reach pytest as it is (a path would fold it).
            @pytest.mark.parametrize("where", ["http://example.test/9"])
            def test_is_big_not_at(where):
                assert not is_big(int(where.rsplit("/", 1)[1]))


            def test_countdown():
                assert countdown(3) == 0


            def test_is_big_weakly():
                assert is_big(50)


            def test_over_limit():
                assert over_limit(11) and not over_limit(10)
            """
        ),
        encoding="utf-8",
    )
    return root


def mutate(project: Path, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run tools/mutate.py on the small project."""
    return subprocess.run(
        [
            sys.executable,
            str(TOOLS / "mutate.py"),
            "--root",
            str(project),
            "--package",
            str(project / "src" / "mini"),
            "--modules",
            "calc,lazy",
            "--jobs",
            "2",
            # A run of these tests takes about 2 s; 20 s of slack leaves a wide margin on a busy
            # machine, while the hanging mutant still ends within the test's own time limit.
            "--slack",
            "20",
            *args,
        ],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(project / "src")},
        timeout=240,
    )


def test_a_run_reports_killed_surviving_unreached_and_hanging_mutants(
    project: Path, tmp_path: Path
) -> None:
    """Each outcome is reported, a hang counts as killed, and the kill rate line is printed."""
    out = tmp_path / "results.json"
    result = mutate(project, tmp_path, "--json", str(out))
    assert result.returncode == 0, result.stdout + result.stderr
    mutants = json.loads(out.read_text())["mutants"]
    outcomes = {(m["line"], m["change"]): m["outcome"] for m in mutants if m["file"] == "calc.py"}
    lazy = {(m["line"], m["change"]): m["outcome"] for m in mutants if m["file"] == "lazy.py"}
    assert outcomes[(2, "return a + b -> return None")] == "killed"
    assert outcomes[(2, "a + b -> (a - b)")] == "killed"
    assert outcomes[(7, "n -= 1 -> n += 1")] == "timeout"
    assert outcomes[(12, "x > 10 -> (x >= 10)")] == "survived"
    assert outcomes[(16, "x * 3 -> (x / 3)")] == "not reached"
    # A module constant runs at import, before any test: the tests of the module still see it.
    assert outcomes[(19, "10 -> (11)")] == "killed"
    # A module body first run inside a test (a lazy import) is import-time all the same: a
    # mutant there runs every test that reaches the module, not only the one that imported it.
    assert lazy[(1, "2 -> (3)")] == "killed"
    assert "error" not in outcomes.values()
    outcomes.update(lazy)
    killed = sum(o in ("killed", "timeout") for o in outcomes.values())
    assert f"Mutation kill rate: {round(100 * killed / len(outcomes))}% " in result.stdout
    # The module's own test file (test_calc.py) runs whole: its 5 tests.
    assert "calc.py:12  x > 10 -> (x >= 10)  [survived, 5]" in result.stdout


def test_tests_that_fail_without_mutants_are_left_out_and_named(
    project: Path, tmp_path: Path
) -> None:
    """A test failing under the tracer or only when forked is named, left out; the run goes on."""
    (project / "tests" / "test_fork_sensitive.py").write_text(
        "import os\n\nfrom mini.calc import add, unused\n\n\n"
        "def test_only_outside_a_mutation_run():\n"
        '    assert unused(1) == 3 and "slot" not in os.environ.get("PYTHONPATH", "")\n\n\n'
        "def test_only_without_the_tracer():\n"
        '    assert add(2, 2) == 4 and "MUTATE_TRACE" not in os.environ\n',
        encoding="utf-8",
    )
    out = tmp_path / "results.json"
    result = mutate(project, tmp_path, "--json", str(out))
    assert result.returncode == 0, result.stdout + result.stderr
    left_out = result.stdout.split("Tests left out", 1)[1].split("\n\n", 1)[0]
    assert "test_fork_sensitive.py::test_only_outside_a_mutation_run" in left_out
    assert "test_fork_sensitive.py::test_only_without_the_tracer" in left_out
    mutants = json.loads(out.read_text())["mutants"]
    add = [m for m in mutants if m["file"] == "calc.py" and m["line"] == 2]
    assert {m["outcome"] for m in add} == {"killed"}
    assert {m["by"] for m in add} == {"tests/test_calc.py::test_add"}
    assert "Mutation kill rate: " in result.stdout


def test_a_rerun_after_a_new_test_runs_only_what_was_not_killed(
    project: Path, tmp_path: Path
) -> None:
    """Kills are kept between runs; a new test file is traced alone and kills the survivor."""
    first, second = tmp_path / "first.json", tmp_path / "second.json"
    assert mutate(project, tmp_path, "--json", str(first)).returncode == 0
    (project / "tests" / "test_boundary.py").write_text(
        "from mini.calc import is_big\n\n\ndef test_ten_is_not_big():\n    assert not is_big(10)\n",
        encoding="utf-8",
    )
    result = mutate(project, tmp_path, "--json", str(second))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 test files traced before, 1 to trace" in result.stdout
    before = {(m["line"], m["change"]): m for m in json.loads(first.read_text())["mutants"]}
    after = {(m["line"], m["change"]): m for m in json.loads(second.read_text())["mutants"]}
    for key, old in before.items():
        killed = old["outcome"] in ("killed", "timeout")
        assert after[key]["reused"] is killed, key
    assert before[(12, "x > 10 -> (x >= 10)")]["outcome"] == "survived"
    assert after[(12, "x > 10 -> (x >= 10)")]["outcome"] == "killed"
    assert after[(12, "x > 10 -> (x >= 10)")]["by"] == "tests/test_boundary.py::test_ten_is_not_big"
