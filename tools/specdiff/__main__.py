"""``python -m specdiff`` (with ``tools/`` on the path) runs the command line."""

from .cli import main

raise SystemExit(main())
