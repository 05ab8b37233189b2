"""Which API description this library was built from.

``SPEC_SHA256`` is the sha256 of ``openapi.yaml``: ``make generate`` rewrites it, and
``make check-generated`` and the tests fail when it is stale. ``SPEC_RELEASE`` names the Neon
release (year-month of publication) whose facts ``openapi.yaml`` states; it is changed by hand
when the pinned description is updated (see MAINTAINING.md).
"""

from typing import Final

SPEC_SHA256: Final = "eec3173b5b83bcd0b4b1b4bf26e29397226a9504ece75c1cb8b802ba7b54c969"
SPEC_RELEASE: Final = "2025-10"
