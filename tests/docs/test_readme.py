"""The README is a short overview whose links all lead somewhere."""

from __future__ import annotations

import re
from pathlib import Path

from doc_blocks import ROOT

README = ROOT / "README.md"
LINK = re.compile(r"\]\((?P<target>[^)#\s]*)(?:#(?P<anchor>[^)\s]+))?\)")


def _slug(heading: str) -> str:
    """The anchor GitHub and the site give a heading."""
    text = re.sub(r"[`*_]", "", heading.strip().lower())
    text = re.sub(r"[^\w\s-]", "", text)
    return re.sub(r"\s+", "-", text)


def _anchors(page: Path) -> set[str]:
    return {
        _slug(line.lstrip("#"))
        for line in page.read_text(encoding="utf-8").splitlines()
        if line.startswith("#")
    }


def test_readme_is_an_overview_under_9000_characters() -> None:
    """The README stays short: the details live in the site."""
    assert len(README.read_text(encoding="utf-8")) < 9000


def test_readme_links_reach_existing_pages_and_headings() -> None:
    """Every relative link of the README names a file that exists, and a heading it has."""
    broken = []
    for match in LINK.finditer(README.read_text(encoding="utf-8")):
        target, anchor = match["target"], match["anchor"]
        if "://" in target or target.startswith("mailto:"):
            continue
        page = ROOT / target if target else README
        if not page.exists():
            broken.append(target)
        elif anchor and page.suffix == ".md" and anchor not in _anchors(page):
            broken.append(f"{target}#{anchor}")
    assert not broken, broken


def test_readme_links_into_every_part_of_the_site() -> None:
    """The README leads to getting started, the guide, the CLI, testing, the reference and the
    project's own documents."""
    text = README.read_text(encoding="utf-8")
    for target in (
        "docs/getting-started.md",
        "docs/guide/keys.md",
        "docs/cli.md",
        "docs/cli-recipes.md",
        "docs/testing.md",
        "docs/reference/neon_keys.md",
        "RELIABILITY.md",
        "BENCHMARKS.md",
        "MAINTAINING.md",
        "CHANGELOG.md",
    ):
        assert f"]({target})" in text, target
