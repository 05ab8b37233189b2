"""The checkout itself: no file carries an unresolved merge."""

from __future__ import annotations

import os
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEXT_SUFFIXES = {".py", ".md", ".toml", ".yaml", ".yml", ".txt", ".cfg", ".json"}
SKIPPED = {".venv", ".git", "site", "build", "dist", ".hypothesis", ".mypy_cache", ".ruff_cache"}
MARKER = re.compile(r"^(<{7} |>{7} |={7}$)", re.MULTILINE)


def project_files() -> list[Path]:
    """The project's text files, outside virtual environments, caches and build output."""
    found = []
    for folder, subfolders, names in os.walk(ROOT):
        subfolders[:] = [name for name in subfolders if name not in SKIPPED]
        found.extend(Path(folder, name) for name in names if Path(name).suffix in TEXT_SUFFIXES)
    return found


def test_no_file_holds_merge_conflict_markers() -> None:
    """A page or module with ``<<<<<<<``/``=======``/``>>>>>>>`` lines would ship a conflict."""
    files = project_files()
    assert len(files) > 50  # the walk found the project
    offending = [
        str(p.relative_to(ROOT)) for p in files if MARKER.search(p.read_text("utf-8", "replace"))
    ]
    assert offending == []
