"""The command line: ``python tools/spec_diff.py PINNED UPSTREAM [--json] [--excluded FILE]``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .compare import diff
from .model import SpecError
from .render import render_json, render_text
from .source import load_excluded, open_document

DEFAULT_EXCLUDED = Path(__file__).resolve().parent.parent / "spec_diff_excluded.txt"
# What a malformed document can raise deep in the comparison (a list where a mapping belongs).
MALFORMED = (KeyError, TypeError, AttributeError, ValueError, RecursionError)


def main(argv: list[str] | None = None) -> int:
    """Run the comparison; return the exit status (0 identical, 1 different, 2 error)."""
    parser = argparse.ArgumentParser(
        prog="spec_diff.py",
        description="Compare the facts of the pinned OpenAPI description with an upstream one.",
    )
    parser.add_argument("pinned", help="the pinned description (openapi.yaml)")
    parser.add_argument("upstream", help="upstream description: a path or an http(s) URL")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument(
        "--excluded",
        type=Path,
        default=DEFAULT_EXCLUDED,
        help="operationIds deliberately not covered (default: %(default)s)",
    )
    args = parser.parse_args(argv)
    try:
        excluded = load_excluded(args.excluded)
        pinned = open_document(args.pinned)
        upstream = open_document(args.upstream)
        report = diff(
            pinned, upstream, excluded, pinned_name=args.pinned, upstream_name=args.upstream
        )
    except SpecError as exc:
        print(f"spec-diff: {exc}", file=sys.stderr)
        return 2
    except MALFORMED as exc:
        print(
            f"spec-diff: malformed OpenAPI document ({type(exc).__name__}: {exc})", file=sys.stderr
        )
        return 2
    sys.stdout.write(render_json(report) if args.json else render_text(report))
    return 0 if report.identical else 1
