"""Run a page's examples in order and compare what they print with what the page shows.

Console examples run in the page's shell (``doc_shell``); python examples run in the page's
Python session, in this process, with the environment a reader's would have: the variables
the page's shell exported (so ``NeonKeys()`` finds the sandbox the page started), or, on a
page without console examples, those of an emulator served for the page. Both kinds run in
the page's temporary folder, where the files the page shows (blocks titled with a file name)
are written as the reader reaches them.

Before comparing, both texts are normalised: what differs from run to run (times, request
ids, ports, tokens, the expiry and token in lease names, the temporary folder) becomes a
fixed placeholder of the same shape, so the tables still line up; trailing spaces and blank
lines are dropped. A line that is exactly ``...`` on the page stands for any number of lines.
"""

from __future__ import annotations

import ast
import contextlib
import io
import logging
import os
import re
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from doc_blocks import ELLIPSIS, Block, Command, Example, Page
from doc_shell import ForkServer, Shell

#: Where the page's temporary folder is shown on the page.
SHOWN_FOLDER = "/tmp/demo"  # noqa: S108 - only ever shown, never written
BACKGROUND_WAIT = 15.0  # seconds a background job gets to print what the page shows

_UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b")
_TIME = re.compile(
    r"\b\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?(?:Z|[+-]\d{2}:?\d{2})?\b"
)
_PORT = re.compile(r"\b(127\.0\.0\.1|localhost):\d{1,5}\b")
_TOKEN = re.compile(r"\bnapi_[a-z0-9]{20,}\b")
_SECONDS = re.compile(r"\bin \d+\.\d+s\b")
_LEASE = re.compile(r"\(lease \d{8}T\d{6}Z [0-9a-hjkmnp-tv-z]{8}\)")


def normalise(text: str, folder: Path | None = None) -> str:
    """``text`` with what changes from run to run replaced by placeholders of its shape."""
    if folder is not None:
        text = text.replace(str(folder), SHOWN_FOLDER)
    text = _LEASE.sub("(lease 00000000T000000Z xxxxxxxx)", text)  # expiry and random token
    text = _UUID.sub("00000000-0000-0000-0000-000000000000", text)
    text = _TIME.sub(lambda match: re.sub(r"\d", "0", match[0]), text)
    text = _PORT.sub(r"\1:PORT", text)
    text = _TOKEN.sub("napi_TOKEN", text)
    text = _SECONDS.sub("in 0.00s", text)
    lines = [line.rstrip() for line in text.splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines) + "\n" if lines else ""


def matches(expected: str, actual: str) -> bool:
    """Whether normalised ``actual`` is what normalised ``expected`` shows (``...`` lines
    standing for any number of lines)."""
    parts = []
    for line in expected.splitlines():
        parts.append(r"(?:.*\n)*?" if line == ELLIPSIS else re.escape(line) + r"\n")
    return re.fullmatch("".join(parts), actual) is not None


@dataclass(frozen=True)
class Mismatch:
    """An example whose output is not what its page shows."""

    where: str
    what: str  # the command, or "python example"
    expected: str
    actual: str

    def __str__(self) -> str:
        return (
            f"{self.where}: {self.what}\n--- the page shows\n{self.expected}"
            f"--- the program printed\n{self.actual}"
        )


@dataclass
class Tally:
    """How many examples of each kind a run saw."""

    commands: int = 0
    python: int = 0
    files: int = 0
    not_run: list[str] = field(default_factory=list)  # "page:line: reason"


class PageRun:
    """One page's examples, run in order in a folder of their own."""

    def __init__(self, page: Page, folder: Path, server: ForkServer) -> None:
        self.page = page
        self.folder = folder
        self.server = server
        self.tally = Tally()
        self.mismatches: list[Mismatch] = []
        self._shell: Shell | None = None
        self._namespace: dict[str, object] = {"__name__": "__main__"}
        self._stack = contextlib.ExitStack()
        self._emulator_env: dict[str, str] | None = None

    def run(self) -> list[Mismatch]:
        """Run every example; return those whose output differs from the page."""
        with self._stack:
            self._stack.enter_context(_fresh_logging())
            for item in self.page.items():
                if isinstance(item, Block):
                    self._write_file(item)
                elif item.block.not_run_reason is not None:
                    self.tally.not_run.append(f"{item.block.where}: {item.block.not_run_reason}")
                elif item.block.language == "console":
                    self._run_console(item)
                else:
                    self._run_python(item)
        return self.mismatches

    def _write_file(self, block: Block) -> None:
        assert block.file_name is not None
        (self.folder / block.file_name).write_text(block.body, encoding="utf-8")
        self.tally.files += 1

    @property
    def shell(self) -> Shell:
        if self._shell is None:
            self._shell = Shell(self.folder, self.server)
            self._stack.callback(self._shell.close)
        return self._shell

    def _run_console(self, example: Example) -> None:
        for command in example.commands:
            self.tally.commands += 1
            actual = self._run_command(command)
            if not matches(normalise(command.expected), actual):
                self.mismatches.append(
                    Mismatch(
                        f"{example.block.page}:{command.line}",
                        f"$ {command.text}",
                        normalise(command.expected),
                        actual,
                    )
                )

    def _run_command(self, command: Command) -> str:
        """What ``command`` printed, normalised (a background job's later output included)."""
        result = self.shell.run(command.text)
        output = normalise(result.output, self.folder)
        expected = normalise(command.expected)
        if command.text.rstrip().endswith("&") and not matches(expected, output):
            later = self.shell.collect(
                lambda text: matches(expected, normalise(result.output + text, self.folder)),
                BACKGROUND_WAIT,
            )
            output = normalise(result.output + later, self.folder)
        return output

    def _python_env(self) -> dict[str, str]:
        """The environment a python example runs with (see the module docstring)."""
        if self._shell is not None:
            return self._shell.environment()
        if self._emulator_env is None:
            from neon_keys.testing import EmulatorServer, World

            server = self._stack.enter_context(EmulatorServer(World.seeded()))
            self._emulator_env = {
                **os.environ,
                "NEON_API_HOST": server.base_url,
                "NEON_API_KEY": server.api_key,
                "NEON_ORG_ID": server.org_id,
                "NEON_PROJECT_ID": server.project_id,
            }
        return self._emulator_env

    def _run_python(self, example: Example) -> None:
        self.tally.python += 1
        block = example.block
        printed = io.StringIO()
        with (
            _environment(self._python_env()),
            _cwd(self.folder),
            contextlib.redirect_stdout(printed),
            contextlib.redirect_stderr(printed),
        ):
            try:
                code = compile(block.body, block.where, "exec", dont_inherit=True)
                exec(code, self._namespace)  # noqa: S102
            except BaseException:
                printed.write(traceback.format_exc())
        actual = normalise(printed.getvalue(), self.folder)
        expected = normalise(example.output.body) if example.output is not None else ""
        if not matches(expected, actual):
            self.mismatches.append(Mismatch(block.where, "python example", expected, actual))


@contextlib.contextmanager
def _fresh_logging() -> Iterator[None]:
    """Logging as a fresh interpreter has it (no handler on the root logger), for the page;
    afterwards every logger as it was, so that a page setting a level (retries.md quiets
    ``neon_keys``) leaves no trace on the pages run after it."""
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    named = {
        name: (logger.level, logger.disabled, logger.propagate, logger.handlers[:])
        for name, logger in logging.root.manager.loggerDict.items()
        if isinstance(logger, logging.Logger)
    }
    root.handlers.clear()
    root.setLevel(logging.WARNING)
    try:
        yield
    finally:
        for handler in root.handlers[:]:
            root.removeHandler(handler)
        root.handlers.extend(saved[0])
        root.setLevel(saved[1])
        for name, logger in list(logging.root.manager.loggerDict.items()):
            if isinstance(logger, logging.Logger):
                level, disabled, propagate, handlers = named.get(
                    name, (logging.NOTSET, False, True, [])
                )
                logger.setLevel(level)
                logger.disabled, logger.propagate = disabled, propagate
                logger.handlers[:] = handlers


@contextlib.contextmanager
def _environment(env: dict[str, str]) -> Iterator[None]:
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


@contextlib.contextmanager
def _cwd(folder: Path) -> Iterator[None]:
    saved = os.getcwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(saved)


def python_names_exist(block: Block) -> list[str]:
    """The ``neon_keys`` names a python block imports that do not exist (it must compile)."""
    import importlib

    tree = ast.parse(block.body, block.where)
    missing = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("neon_keys"):
            module = importlib.import_module(node.module or "")
            missing.extend(
                f"{node.module}.{alias.name}"
                for alias in node.names
                if not hasattr(module, alias.name) and not _is_submodule(node.module, alias.name)
            )
    return missing


def _is_submodule(package: str | None, name: str) -> bool:
    """Whether ``from package import name`` imports a submodule (as ``neon_keys.policy``)."""
    import importlib.util

    return importlib.util.find_spec(f"{package}.{name}") is not None
