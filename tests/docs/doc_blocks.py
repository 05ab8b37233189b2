"""The fenced blocks of the documentation, read the way the examples test runs them.

Every page of the site (and README.md) is a sequence of fenced blocks. What a block is comes
from its info string, which GitHub and the site both accept (the first word is the
language; ``title="..."`` is shown by the site above the block):

- ``console``: a shell session. Lines starting with ``$ `` are commands (a line ending in
  ``\\`` continues on the next); the other lines are what the terminal shows, stdout and
  stderr together. A line that is exactly ``...`` stands for any number of lines.
- ``python``: a script, run in the page's Python session (the blocks of a page share their
  names, in order). What it prints is the ``text`` block with ``title="Output"`` right after
  it; a script that prints something not shown fails.
- Any block whose title is a file name (``title="neon-keys.toml"``, ``title="test_ci.py"``):
  a file the reader saves; it is written into the page's working folder at that point.
- ``title="Not run: REASON"`` on a console or python block: an example that cannot run here
  (it needs a live Neon account, or takes minutes); the reason is shown on the page.
- ``text``, ``json``, ``yaml``, ``toml``, ``dotenv``, ``ini``: data shown to the reader, never
  run; one that looks like a console session (a line starting with ``$ ``) is refused.

A block without a language, or in a shell language without prompts (``sh``, ``bash``), is
refused: the test could not tell whether it is an example.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"

RUNNABLE = frozenset({"console", "python"})
DATA = frozenset({"text", "json", "yaml", "toml", "dotenv", "ini"})
NOT_RUN_PREFIX = "Not run: "
OUTPUT_TITLE = "Output"
ELLIPSIS = "..."

_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>[^`]*)$")
_FILE_NAME = re.compile(r"^[\w.-]+\.[A-Za-z0-9]+$")
_ROOT_PAGE = re.compile(r"<!--\s*root-page:\s*(?P<name>[\w.-]+)\s*-->")


class DocFormatError(Exception):
    """A block the examples test cannot classify, with the page and line."""


@dataclass(frozen=True)
class Block:
    """One fenced block of a page."""

    page: str  # the file, relative to the repository's root
    line: int  # the line of its opening fence (1-based)
    language: str
    attrs: dict[str, str]
    body: str

    @property
    def where(self) -> str:
        """``page:line``, for messages."""
        return f"{self.page}:{self.line}"

    @property
    def title(self) -> str | None:
        """The block's title, shown above it on the site, or None."""
        return self.attrs.get("title")

    @property
    def not_run_reason(self) -> str | None:
        """Why the page says this example is not run, or None for an example that runs."""
        title = self.title
        if title is not None and title.startswith(NOT_RUN_PREFIX):
            return title.removeprefix(NOT_RUN_PREFIX).strip()
        return None

    @property
    def file_name(self) -> str | None:
        """The file this block is the text of, when its title is a file name."""
        title = self.title
        return title if title is not None and _FILE_NAME.match(title) else None


@dataclass(frozen=True)
class Command:
    """One command of a console block and what the page shows it printing."""

    line: int  # the line of its ``$ `` prompt
    text: str  # as typed, continuation lines joined with newlines
    expected: str  # the lines shown after it, up to the next prompt

    @property
    def argv(self) -> list[str]:
        """The words of the command, as a shell would split them (before expansion)."""
        return shlex.split(self.text.replace("\\\n", " "), comments=True)


@dataclass(frozen=True)
class Example:
    """A console or python block that runs, or that the page marks as not run."""

    block: Block
    output: Block | None = None  # a python example's Output block
    commands: tuple[Command, ...] = field(default=())  # a console example's commands


@dataclass(frozen=True)
class Page:
    """A page and its blocks, in order."""

    path: str  # relative to the repository's root
    blocks: tuple[Block, ...] = field(repr=False)

    def items(self) -> list[Example | Block]:
        """What the test walks through in order: examples, and files the reader saves."""
        items: list[Example | Block] = []
        blocks = list(self.blocks)
        index = 0
        while index < len(blocks):
            block = blocks[index]
            index += 1
            if block.file_name is not None and block.not_run_reason is None:
                items.append(block)
            elif block.language == "console":
                items.append(Example(block, commands=tuple(parse_console(block))))
            elif block.language == "python":
                output = None
                if index < len(blocks) and blocks[index].title == OUTPUT_TITLE:
                    output = blocks[index]
                    index += 1
                items.append(Example(block, output=output))
            elif block.title == OUTPUT_TITLE:
                raise DocFormatError(f"{block.where}: an Output block must follow a python block")
        return items

    def examples(self) -> list[Example]:
        """The page's console and python examples, run or marked not run."""
        return [item for item in self.items() if isinstance(item, Example)]


def _attributes(info: str, where: str) -> tuple[str, dict[str, str]]:
    """The language and the ``key="value"`` attributes of an info string."""
    info = info.strip()
    if info.startswith("{") and info.endswith("}"):
        info = info[1:-1].strip().lstrip(".")
    words = shlex.split(info) if info else []
    if not words:
        return "", {}
    language, rest = words[0], words[1:]
    attrs: dict[str, str] = {}
    for word in rest:
        key, sep, value = word.partition("=")
        if not sep:
            raise DocFormatError(f'{where}: cannot read {word!r} in the fence (key="value")')
        attrs[key] = value
    return language, attrs


def parse_blocks(text: str, page: str) -> tuple[Block, ...]:
    """Every fenced block of a Markdown text, with its attributes and its body."""
    blocks: list[Block] = []
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        match = _FENCE.match(lines[index])
        index += 1
        if match is None:
            continue
        start = index
        indent, fence = match["indent"], match["fence"]
        body: list[str] = []
        while index < len(lines):
            line = lines[index]
            index += 1
            closing = line.strip()
            if closing and set(closing) == {fence[0]} and len(closing) >= len(fence):
                break
            body.append(line.removeprefix(indent))
        else:
            raise DocFormatError(f"{page}:{start}: the block is never closed")
        language, attrs = _attributes(match["info"], f"{page}:{start}")
        blocks.append(Block(page, start, language, attrs, "\n".join(body) + "\n" if body else ""))
    return tuple(blocks)


def parse_console(block: Block) -> list[Command]:
    """The commands of a console block, each with the output the page shows after it."""
    commands: list[Command] = []
    lines = block.body.splitlines()
    index = 0
    if lines and not lines[0].startswith("$ "):
        raise DocFormatError(f"{block.where}: a console block starts with a '$ ' command")
    while index < len(lines):
        line_no = block.line + 1 + index
        typed = [lines[index][2:]]
        index += 1
        while typed[-1].endswith("\\") and index < len(lines):
            typed.append(lines[index])
            index += 1
        output: list[str] = []
        while index < len(lines) and not lines[index].startswith("$ "):
            output.append(lines[index])
            index += 1
        while output and not output[-1].strip():
            output.pop()  # a blank line between two commands is layout, not output
        expected = "\n".join(output) + "\n" if output else ""
        commands.append(Command(line_no, "\n".join(typed), expected))
    return commands


def check_block(block: Block) -> None:
    """Refuse a block whose nature the examples test cannot tell (see the module docstring)."""
    if not block.language:
        raise DocFormatError(
            f"{block.where}: give the block a language: console, python, or text for data"
        )
    if block.not_run_reason is not None:
        if block.language not in RUNNABLE:
            raise DocFormatError(f"{block.where}: only console and python examples are run")
        if not block.not_run_reason:
            raise DocFormatError(f"{block.where}: say why the example is not run")
        return
    if block.file_name is not None:
        return
    if block.title == OUTPUT_TITLE:
        if block.language != "text":
            raise DocFormatError(f"{block.where}: an Output block is a text block")
        return
    if block.language in RUNNABLE:
        return
    if block.language not in DATA:
        raise DocFormatError(
            f"{block.where}: a {block.language!r} block is neither an example (console with "
            f"'$ ' prompts, or python) nor data ({', '.join(sorted(DATA))})"
        )
    if any(line.startswith("$ ") for line in block.body.splitlines()):
        raise DocFormatError(
            f"{block.where}: this {block.language} block looks like a console session; make it "
            "a console example (or mark it not run)"
        )


def page_paths() -> list[Path]:
    """README.md and every page of the site's docs folder, sorted."""
    pages = sorted(path for path in DOCS.rglob("*.md") if "_hooks" not in path.parts)
    return [ROOT / "README.md", *pages]


def load_page(path: Path) -> Page | None:
    """The blocks of a page; None for a site page that only shows a root file."""
    text = path.read_text(encoding="utf-8")
    relative = path.relative_to(ROOT).as_posix()
    if _ROOT_PAGE.search(text):
        return None  # its root file is a page of its own here
    blocks = parse_blocks(text, relative)
    for block in blocks:
        check_block(block)
    return Page(relative, blocks)


ROOT_FILES = ("RELIABILITY.md", "BENCHMARKS.md", "MAINTAINING.md", "CHANGELOG.md")


def all_pages() -> tuple[list[Page], list[str]]:
    """Every page whose examples the test runs (README, the site's pages, the root files it
    shows), and the format errors of those that cannot be read."""
    pages: list[Page] = []
    errors: list[str] = []
    for path in [*page_paths(), *(ROOT / name for name in ROOT_FILES)]:
        try:
            page = load_page(path)
        except DocFormatError as err:
            errors.append(str(err))
            continue
        if page is not None:
            pages.append(page)
    return pages, errors
