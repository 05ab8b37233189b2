"""Print a description's facts without its prose, as JSON (to refresh a test fixture).

    python tools/spec_facts.py SOURCE > tests/tools/fixtures/neon_YYYY_facts.json

SOURCE is a path or an http(s) URL. Descriptions, summaries, titles and examples are dropped
everywhere (property names are kept), so the fixture holds Neon's facts but none of its
prose. Exit status 0, or 2 with a one-line message when SOURCE cannot be read.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from specdiff import SpecError, load  # found through the line above (also under python -I)
from specdiff.prose import without_prose


def main(argv: list[str]) -> int:
    """Print the facts of the one description named in ``argv``; return the exit status."""
    if len(argv) != 1:
        print("usage: python tools/spec_facts.py SOURCE", file=sys.stderr)
        return 2
    try:
        doc = load(argv[0])
    except SpecError as exc:
        print(f"spec-facts: {exc}", file=sys.stderr)
        return 2
    facts = without_prose(doc)
    info = doc.get("info") if isinstance(doc.get("info"), dict) else {}
    title, version = info.get("title", "API"), info.get("version", "")
    facts["info"] = {"title": f"{title} (facts only)", "version": version}
    sys.stdout.write(json.dumps(facts, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
