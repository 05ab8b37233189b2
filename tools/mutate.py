"""Mutation testing of the core modules: ``make mutate`` (see the ``mutation`` package).

python tools/mutate.py [--modules _retry,cli/_sinks] [--jobs N] [--json FILE] [--list]
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from mutation.cli import main  # found through the line above (also under python -I)

if __name__ == "__main__":
    raise SystemExit(main())
