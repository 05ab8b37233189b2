"""Which API description this library was built from.

``SPEC_SHA256`` is the sha256 of ``openapi.yaml``: ``make generate`` rewrites it, and
``make check-generated`` and the tests fail when it is stale. ``SPEC_RELEASE`` names the Neon
release whose facts ``openapi.yaml`` states: the year and month Neon published it
(``2025-10``), or the year alone for a description Neon did not date (``2026``). It is changed
by hand when the pinned description is updated (see MAINTAINING.md).
"""

from typing import Final

SPEC_SHA256: Final = "c238e769639f7b20aaf227634847c4b3ef99e5115d24b64760aba65e3968d7fa"
SPEC_RELEASE: Final = "2026"
