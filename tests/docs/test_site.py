"""The documentation site builds strictly, works offline and covers the public API."""

from __future__ import annotations

import importlib
import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from doc_blocks import ROOT

sys.path.insert(0, str(ROOT / "docs" / "_hooks"))
import root_pages

#: Attributes through which a page loads something (as opposed to linking to it).
ASSET_ATTRIBUTES = {("script", "src"), ("link", "href"), ("img", "src"), ("source", "src")}
EXTERNAL = re.compile(r"^(?:[a-z][a-z0-9+.-]*:)?//", re.IGNORECASE)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site, built as ``make docs`` builds it, into a temporary folder."""
    out = tmp_path_factory.mktemp("site")
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert result.returncode == 0, result.stderr
    return out


class _Assets(HTMLParser):
    """Collects what an HTML page loads: scripts, stylesheets, images, fonts."""

    def __init__(self) -> None:
        super().__init__()
        self.loaded: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if (tag, name) in ASSET_ATTRIBUTES and value:
                if tag == "link" and ("rel", "canonical") in attrs:
                    continue
                self.loaded.append(value)


def test_site_builds_strictly_with_every_page(site: Path) -> None:
    """``mkdocs build --strict`` succeeds and writes a page for every Markdown file."""
    pages = sorted(
        p.relative_to(ROOT / "docs").with_suffix(".html").as_posix()
        for p in (ROOT / "docs").rglob("*.md")
        if "_hooks" not in p.parts
    )
    missing = [page for page in pages if not (site / page).is_file()]
    assert not missing and len(pages) >= 15


def test_site_loads_nothing_from_the_network(site: Path) -> None:
    """No page, stylesheet or script loads anything from another host (fonts, CDN, analytics)."""
    external = []
    for html in site.rglob("*.html"):
        parser = _Assets()
        parser.feed(html.read_text(encoding="utf-8"))
        external += [f"{html.name}: {url}" for url in parser.loaded if EXTERNAL.match(url)]
    for css in site.rglob("*.css"):
        text = css.read_text(encoding="utf-8")
        urls = re.findall(r"url\(\s*['\"]?([^'\")]+)", text) + re.findall(
            r"@import\s+['\"]([^'\"]+)", text
        )
        external += [f"{css.name}: {url}" for url in urls if EXTERNAL.match(url)]
    assert not external, external
    assert (site / "search" / "search_index.json").is_file()  # search is local too


def test_assets_check_catches_an_external_font() -> None:
    """The offline check flags a stylesheet on another host (so it can fail)."""
    parser = _Assets()
    parser.feed('<link rel="stylesheet" href="https://fonts.example.com/css?family=Roboto">')
    parser.feed('<link rel="canonical" href="https://example.com/page.html">')
    assert [url for url in parser.loaded if EXTERNAL.match(url)] == [
        "https://fonts.example.com/css?family=Roboto"
    ]


@pytest.mark.parametrize(
    ("module", "page"),
    [("neon_keys", "reference/neon_keys.html"), ("neon_keys.testing", "reference/testing.html")],
)
def test_reference_documents_every_public_name(site: Path, module: str, page: str) -> None:
    """Every name in ``__all__`` has its entry in the generated API reference."""
    html = (site / page).read_text(encoding="utf-8")
    names = importlib.import_module(module).__all__
    missing = [name for name in names if f'id="{module}.{name}"' not in html]
    assert not missing, missing


def test_cli_reference_documents_every_command(site: Path) -> None:
    """The command reference, generated from the click group, has every command and option."""
    from neon_keys.cli import cli

    html = (site / "cli-reference.html").read_text(encoding="utf-8")
    for name, command in cli.commands.items():
        assert f'id="neon-keys-{name}"' in html, name
        for param in command.params:
            for opt in param.opts:
                if opt.startswith("-"):
                    assert opt in html, (name, opt)


@pytest.mark.parametrize("name", sorted(root_pages.ROOT_PAGES))
def test_root_files_are_pages_of_the_site(site: Path, name: str) -> None:
    """README, RELIABILITY, BENCHMARKS, MAINTAINING and CHANGELOG appear in the site as they
    are at the root (one copy), their first heading included."""
    page = root_pages.ROOT_PAGES[name]
    stub = (ROOT / "docs" / page).read_text(encoding="utf-8")
    assert root_pages.root_text(stub) is not None
    heading = next(
        line[2:]
        for line in (ROOT / name).read_text(encoding="utf-8").splitlines()
        if line.startswith("# ")
    )
    html = (site / page.replace(".md", ".html")).read_text(encoding="utf-8")
    assert heading.replace("`", "") in re.sub(r"<[^>]+>", "", html)


def test_root_links_point_into_the_site() -> None:
    """Links written for the repository (docs/x.md, RELIABILITY.md) become links of the site."""
    text = (
        "See [keys](docs/guide/keys.md#secrets), [reliability](RELIABILITY.md), "
        "[the site](https://example.com/docs/x.md) and [above](#top).\n"
        "[ref]: docs/cli.md\n"
    )
    assert root_pages.rewrite_links(text) == (
        "See [keys](guide/keys.md#secrets), [reliability](reliability.md), "
        "[the site](https://example.com/docs/x.md) and [above](#top).\n"
        "[ref]: cli.md\n"
    )


CONFLICT_MARKER = re.compile(r"^(?:<{7}|={7}|>{7})(?: |$)", re.MULTILINE)


@pytest.mark.parametrize(
    "path",
    sorted(
        str(path.relative_to(ROOT)) for path in [*ROOT.glob("*.md"), *(ROOT / "docs").rglob("*.md")]
    ),
)
def test_no_page_holds_a_merge_conflict_marker(path: str) -> None:
    """No page of the documentation keeps the markers of a merge left unresolved."""
    text = (ROOT / path).read_text(encoding="utf-8")
    assert not [line for line in text.splitlines() if CONFLICT_MARKER.match(line)]
