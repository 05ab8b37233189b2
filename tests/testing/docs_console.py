"""Console examples of a page, run as a reader would type them, and compared with the page.

A console example is a fenced block marked ``console``: lines starting with ``$ `` are
commands, the lines after each (up to the next command) are what the page says it prints,
stdout and stderr together as a terminal shows them. All the blocks of a page run in order
in one bash session (so ``eval``, ``export`` and files carry over), in a folder of the
test's. Before comparing, both sides are normalised: ports, tokens, process ids and times
differ from run to run.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

CONSOLE_BLOCK = re.compile(r"^```console\n(.*?)^```", re.DOTALL | re.MULTILINE)
PROMPT = "$ "
_MARK = "@@docs-console-step@@"

_NORMALISE = [
    (re.compile(r"127\.0\.0\.1:\d+"), "127.0.0.1:PORT"),
    (re.compile(r"napi_[a-z0-9]{60}"), "napi_TOKEN"),
    (re.compile(r"\(pid \d+\)"), "(pid PID)"),
    (re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"), "YYYY-MM-DDTHH:MM:SSZ"),
    (re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d"), "YYYY-MM-DD HH:MM"),
]


@dataclass(frozen=True)
class Step:
    """One command of a page and the output the page shows for it."""

    command: str
    shown: tuple[str, ...]


@dataclass(frozen=True)
class Mismatch:
    """A command whose output differs from the page's (both normalised)."""

    command: str
    shown: tuple[str, ...]
    printed: tuple[str, ...]

    def __str__(self) -> str:
        return (
            f"$ {self.command}\n--- the page shows:\n"
            + "\n".join(self.shown)
            + "\n--- it prints:\n"
            + "\n".join(self.printed)
        )


def steps_of(markdown: str) -> list[Step]:
    """The commands of every console block of ``markdown``, in order, with their output."""
    steps: list[Step] = []
    for block in CONSOLE_BLOCK.findall(markdown):
        command: str | None = None
        shown: list[str] = []
        for line in block.splitlines():
            if line.startswith(PROMPT):
                if command is not None:
                    steps.append(Step(command, _trimmed(shown)))
                command, shown = line.removeprefix(PROMPT), []
            elif command is not None:
                shown.append(line)
            elif line.strip():
                raise ValueError(f"console block output before any command: {line!r}")
        if command is not None:
            steps.append(Step(command, _trimmed(shown)))
    return steps


def normalise(lines: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """``lines`` with what changes between runs replaced by placeholders, right-stripped."""
    result = []
    for line in lines:
        text = line
        for pattern, placeholder in _NORMALISE:
            text = pattern.sub(placeholder, text)
        result.append(text.rstrip())
    return tuple(result)


def run_steps(
    steps: list[Step], folder: Path, env: dict[str, str], *, timeout: float = 180.0
) -> list[tuple[str, ...]]:
    """Run ``steps`` in one bash session in ``folder``; each command's output, in order."""
    script = ["exec 2>&1"]
    for step in steps:
        script.append(f"printf '\\n%s\\n' '{_MARK}'")
        script.append(step.command)
    script.append(f"printf '\\n%s\\n' '{_MARK}'")
    completed = subprocess.run(
        ["bash", "-c", "\n".join(script)],
        cwd=folder,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=timeout,
        check=False,
    )
    parts = completed.stdout.split(f"\n{_MARK}\n")
    outputs = [_trimmed(part.splitlines()) for part in parts[1:]]
    if len(outputs) != len(steps) + 1:
        raise AssertionError(f"the session ended early:\n{completed.stdout}")
    return outputs[:-1]


def mismatches(steps: list[Step], printed: list[tuple[str, ...]]) -> list[Mismatch]:
    """The steps whose output, normalised, differs from what the page shows."""
    return [
        Mismatch(step.command, normalise(step.shown), normalise(output))
        for step, output in zip(steps, printed, strict=True)
        if normalise(step.shown) != normalise(output)
    ]


def _trimmed(lines: list[str]) -> tuple[str, ...]:
    while lines and not lines[-1].strip():
        lines = lines[:-1]
    return tuple(lines)
