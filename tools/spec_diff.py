"""Compare the facts of the pinned API description with an upstream one (``make spec-diff``).

    python tools/spec_diff.py PINNED UPSTREAM [--json] [--excluded FILE]

Exit status 0 identical, 1 different, 2 error. The work is done by the ``specdiff`` package
next to this script; its docstring says what is compared and how.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from specdiff.cli import main  # found through the line above (also under python -I)

if __name__ == "__main__":
    raise SystemExit(main())
