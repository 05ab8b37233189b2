"""``python -m neon_keys.cli``: the same as the ``neon-keys`` command."""

from . import main

main()
