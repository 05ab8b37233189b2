"""mkdocs hook: pages whose text lives in a file at the repository's root.

README.md, RELIABILITY.md, BENCHMARKS.md, MAINTAINING.md and CHANGELOG.md stay where they
are (tools and tests read them there); a page of the site that holds only the line
``<!-- root-page: NAME.md -->`` shows that file instead. Its links are rewritten for the
site: ``docs/guide/keys.md`` becomes ``guide/keys.md``, ``RELIABILITY.md`` becomes
``reliability.md``, so each text has one copy and the links work in both places.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]

#: Root file -> the page of the site that shows it.
ROOT_PAGES = {
    "README.md": "index.md",
    "RELIABILITY.md": "reliability.md",
    "BENCHMARKS.md": "benchmarks.md",
    "MAINTAINING.md": "maintaining.md",
    "CHANGELOG.md": "changelog.md",
}

DIRECTIVE = re.compile(r"<!--\s*root-page:\s*(?P<name>[\w.-]+)\s*-->")
# An inline link or image target, or a reference definition: the target is group "target".
LINK = re.compile(
    r"(?P<lead>\]\(|^\[[^\]]+\]:[ \t]*)(?P<target>[^)\s#]*)(?P<anchor>#[^)\s]*)?",
    re.MULTILINE,
)


def site_target(target: str) -> str:
    """Where a link written for the repository's root points to in the site."""
    if not target or "://" in target or target.startswith(("mailto:", "/")):
        return target
    if target in ROOT_PAGES:
        return ROOT_PAGES[target]
    if target.startswith("docs/"):
        return target.removeprefix("docs/")
    return target


def rewrite_links(markdown: str) -> str:
    """``markdown`` written for the repository's root, with its links pointing into the site."""

    def replace(match: re.Match[str]) -> str:
        return match["lead"] + site_target(match["target"]) + (match["anchor"] or "")

    return LINK.sub(replace, markdown)


def root_text(markdown: str) -> str | None:
    """The text of the root file a page stands for, or None for an ordinary page."""
    match = DIRECTIVE.search(markdown)
    if match is None:
        return None
    name = match["name"]
    if name not in ROOT_PAGES:
        raise ValueError(f"root-page: {name} is not one of {sorted(ROOT_PAGES)}")
    return rewrite_links((ROOT / name).read_text(encoding="utf-8"))


def on_page_markdown(markdown: str, **_kwargs: Any) -> str:
    """mkdocs event: swap a root-page stub for the file it names."""
    text = root_text(markdown)
    return markdown if text is None else text
