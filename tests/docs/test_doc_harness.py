"""The examples test itself: it fails when a page and the program disagree, and only then."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from doc_blocks import ROOT, DocFormatError, Page, check_block, load_page, parse_blocks
from doc_runner import PageRun, matches, normalise
from doc_shell import ForkServer
from test_doc_examples import _cli_words_problems

FENCE = "```"


@pytest.fixture(scope="module")
def fork_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ForkServer]:
    """The warm ``neon-keys`` the shells run."""
    server = ForkServer(tmp_path_factory.mktemp("cli"))
    try:
        yield server
    finally:
        server.close()


def _page(text: str) -> Page:
    blocks = parse_blocks(text, "page.md")
    for block in blocks:
        check_block(block)
    return Page("page.md", blocks)


def test_a_page_broken_on_purpose_fails_where_it_was_broken(
    tmp_path: Path, fork_server: ForkServer
) -> None:
    """Changing one line a console example shows and one a python example shows, on a real
    page, makes exactly those two examples fail, with what the program printed instead."""
    text = (ROOT / "docs" / "getting-started.md").read_text(encoding="utf-8")
    broken = text.replace('Created personal key 100003 "ci"', 'Created personal key 100009 "ci"')
    broken = broken.replace("100004 from-python", "100004 from-ruby")
    assert broken.count("100009") == 1 and "from-ruby" in broken
    page = Page("docs/getting-started.md", parse_blocks(broken, "docs/getting-started.md"))
    mismatches = PageRun(page, tmp_path, fork_server).run()
    assert [m.what for m in mismatches] == ["$ KEY=$(neon-keys create ci)", "python example"]
    assert 'Created personal key 100003 "ci"' in mismatches[0].actual
    assert "100004 from-python" in mismatches[1].actual


def test_a_python_example_that_prints_what_the_page_does_not_show_fails(
    tmp_path: Path, fork_server: ForkServer
) -> None:
    """Output the page does not show, or an exception, is a mismatch too."""
    page = _page(
        f"{FENCE}python\nprint('hello')\n{FENCE}\n\n"
        f"{FENCE}python\nraise RuntimeError('boom')\n{FENCE}\n\n"
        f"{FENCE}python\nprint('shown')\n{FENCE}\n{FENCE}text title=\"Output\"\nshown\n{FENCE}\n"
    )
    mismatches = PageRun(page, tmp_path, fork_server).run()
    assert [m.where for m in mismatches] == ["page.md:1", "page.md:5"]
    assert mismatches[0].actual == "hello\n"
    assert "RuntimeError: boom" in mismatches[1].actual


def test_console_sessions_keep_their_state_and_see_background_output(
    tmp_path: Path, fork_server: ForkServer
) -> None:
    """Commands share variables, files and ``$?``; what a background job prints once it is
    ready counts as its command's output; stdout and stderr interleave as written."""
    page = _page(
        f"{FENCE}console\n"
        "$ (sleep 0.3; echo ready >&2) &\nready\n"
        "$ GREETING=hello; echo $GREETING > file.txt\n"
        "$ cat file.txt; false\nhello\n"
        "$ echo $?\n1\n"
        "$ echo out; echo err >&2; echo out again\nout\nerr\nout again\n"
        f"{FENCE}\n"
    )
    assert PageRun(page, tmp_path, fork_server).run() == []


def test_files_the_page_shows_are_written_before_the_commands_that_use_them(
    tmp_path: Path, fork_server: ForkServer
) -> None:
    """A block titled with a file name is saved in the page's folder as the reader reaches it."""
    page = _page(
        f'{FENCE}toml title="settings.toml"\nname = "ci"\n{FENCE}\n\n'
        f'{FENCE}console\n$ cat settings.toml\nname = "ci"\n{FENCE}\n'
    )
    assert PageRun(page, tmp_path, fork_server).run() == []


@pytest.mark.parametrize(
    ("block", "problem"),
    [
        (f"{FENCE}\n$ neon-keys list\n{FENCE}\n", "give the block a language"),
        (f"{FENCE}sh\nneon-keys list\n{FENCE}\n", "neither an example"),
        (f"{FENCE}text\n$ neon-keys list\n{FENCE}\n", "looks like a console session"),
        (f'{FENCE}console title="Not run: "\n$ neon-keys list\n{FENCE}\n', "say why"),
        (f'{FENCE}text title="Not run: live"\nx\n{FENCE}\n', "only console and python"),
        (f"{FENCE}console\nID NAME\n{FENCE}\n", "starts with a '\\$ ' command"),
    ],
)
def test_a_block_that_is_neither_run_nor_marked_is_refused(block: str, problem: str) -> None:
    """An unmarked block the test would not run (no language, a shell language without
    prompts, a console session disguised as text, a marker without a reason) fails."""
    with pytest.raises(DocFormatError, match=problem):
        page = _page(block)
        page.items()
        for example in page.examples():
            list(example.commands)


def test_every_page_of_the_site_is_read() -> None:
    """The pages walked are README and every Markdown file of the site (root files included)."""
    page = load_page(ROOT / "docs" / "reliability.md")
    assert page is None  # shown from RELIABILITY.md, which is read as a page itself


def test_normalising_hides_what_changes_from_run_to_run_and_nothing_else() -> None:
    """Times, request ids, ports and tokens compare equal whatever their value; ids and names
    do not, and column alignment is kept."""
    one = (
        "100003  ci  2026-11-27 11:37  http://127.0.0.1:40965/api/v2  "
        "napi_h9ke13zz2nv80xkwlxhv012s150flak3zoley8 request 4e8263f9-955e-4347-b136-dba540638937"
    )
    two = (
        "100003  ci  2025-01-02 03:04  http://127.0.0.1:1234/api/v2  "
        "napi_0000000000aaaaaaaaaabbbbbbbbbbbbbbbb request 0edc4498-485c-4f79-95fa-0741209a18f5"
    )
    assert normalise(one) == normalise(two)
    assert normalise(one) != normalise(one.replace("100003", "100004"))
    assert normalise(one) != normalise(one.replace("  ci  ", "  cd  "))


def test_an_ellipsis_line_stands_for_any_lines_and_only_whole_lines() -> None:
    """``...`` alone on a line matches zero or more lines; elsewhere it is literal."""
    assert matches("a\n...\nz\n", "a\nb\nc\nz\n")
    assert matches("a\n...\nz\n", "a\nz\n")
    assert not matches("a\n...\nz\n", "a\nb\n")
    assert not matches("a ...\n", "a b\n")


def test_examples_not_run_are_checked_against_the_command_line() -> None:
    """A command of an example marked not run must name real commands and options."""
    assert _cli_words_problems(["neon-keys", "create", "ci", "--save", "ci.token"]) == []
    assert _cli_words_problems(["neon-keys", "-o", "json", "list", "--org", "$ORG"]) == []
    assert _cli_words_problems(["neon-keys", "create", "ci", "--sav", "ci.token"]) == [
        "no option --sav for create"
    ]
