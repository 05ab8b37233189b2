"""The values a comparison produces: one change, the changes of one operation or schema, notes,
and the report that holds them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class SpecError(Exception):
    """A description could not be read or is not a usable OpenAPI 3 document."""


@dataclass(frozen=True)
class Change:
    """One difference; ``pinned``/``upstream`` are None where that side lacks the fact."""

    where: str  # "response 200 application/json", "parameter path key_id", "" for the whole
    at: str  # the path into the schema: "a.b", "[]" for items, "" for the schema itself
    fact: str  # a schema keyword, or "property", "required", "parameter", "response", ...
    change: str  # "added", "removed", "changed"
    pinned: Any = None
    upstream: Any = None

    @property
    def message(self) -> str:
        """The change in one line of text."""
        from .messages import change_message  # the wording lives with the rest of the wording

        return change_message(self)


@dataclass(frozen=True)
class Entry:
    """The differences of one operation or one schema."""

    name: str
    status: str  # "changed", "missing_upstream", "new_upstream"
    changes: tuple[Change, ...]
    method: str = ""
    path: str = ""
    used_by: tuple[str, ...] = ()


@dataclass(frozen=True)
class Note:
    """Something worth knowing that is not a difference in facts.

    ``operation_id`` is None for a note about the whole description (such as it being an
    extract).
    """

    kind: str  # "excluded_but_covered", "excluded_missing_upstream", "upstream_is_extract"
    operation_id: str | None
    message: str


@dataclass(frozen=True)
class Report:
    """The outcome of a comparison."""

    pinned: str
    upstream: str
    operations: tuple[Entry, ...]
    schemas: tuple[Entry, ...]
    notes: tuple[Note, ...]
    counts: tuple[int, int] = (0, 0)  # covered operations and reached schemas compared
    extract: bool = False  # upstream holds no operation besides the covered ones

    @property
    def identical(self) -> bool:
        """Whether no fact differs (notes do not count)."""
        return not self.operations and not self.schemas
