"""Which API description this library was built from.

``SPEC_SHA256`` is the sha256 of ``openapi.yaml``: ``make generate`` rewrites it, and
``make check-generated`` and the tests fail when it is stale. ``SPEC_RELEASE`` names the Neon
release (year-month of publication) whose facts ``openapi.yaml`` states; it is changed by hand
when the pinned description is updated (see MAINTAINING.md).
"""

from typing import Final

SPEC_SHA256: Final = "f99d78e3037b241314cd264d146c1b4d8cb50fe3529a6fec59ffa6a58b6f72d2"
SPEC_RELEASE: Final = "2025-10"
