"""The report as readable text (grouped per operation and per schema) or as JSON.

The JSON object (``--json``); keys are stable, new keys may be added, none renamed::

    {
      "format": 1,
      "pinned": "openapi.yaml",            # the arguments as given
      "upstream": "...",
      "identical": false,                  # true exactly when the exit status is 0
      "operations": [                      # only operations with differences, by operationId
        {"operation_id": "createApiKey", "method": "POST", "path": "/api_keys",
         "status": "changed",              # or "missing_upstream", "new_upstream"
         "changes": [CHANGE, ...]}
      ],
      "schemas": [                         # only schemas with differences, by name
        {"name": "ApiKeyCreateResponse",
         "status": "changed",              # or "missing_upstream", "new_upstream"
         "used_by": ["createApiKey"],      # covered operations reaching it, either side
         "changes": [CHANGE, ...]}
      ],
      "notes": [{"kind": "excluded_missing_upstream", "operation_id": "...", "message": "..."}],
                                           # kinds: excluded_missing_upstream,
                                           # excluded_but_covered, upstream_is_extract (whose
                                           # operation_id is null)
      "extract": false                     # upstream holds only covered operations
    }

    CHANGE = {"where": "response 200 application/json",   # "" for the operation or schema
              "at": "created_by",                          # schema path: a.b, [] = items
              "fact": "format",                            # keyword, or "property", "required",
                                                           # "parameter", "response", ...
              "change": "removed",                         # "added", "removed" or "changed"
              "pinned": "uuid", "upstream": null,          # JSON values; null when absent
              "message": "created_by: format: \\"uuid\\" -> (none)"}
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from .model import Entry, Report

JSONFORMAT = 1


def render_text(report: Report) -> str:
    """The report as readable text, grouped per operation and per schema."""
    lines = [f"spec-diff: {report.pinned} -> {report.upstream}"]
    operations, schemas = report.counts
    if report.identical:
        lines.append(
            f"No difference in the facts of {operations} covered operations and {schemas} schemas."
        )
    else:
        lines.append(
            f"Differences: {len(report.operations)} operation(s), {len(report.schemas)} "
            f"schema(s) (of {operations} covered operations and {schemas} schemas)."
        )
    if report.operations:
        lines += ["", "Operations"]
        for entry in report.operations:
            lines.append(f"  {entry.name} ({entry.method} {entry.path})")
            lines += [f"    - {change.message}" for change in entry.changes]
    if report.schemas:
        lines += ["", "Schemas"]
        for entry in report.schemas:
            users = ", ".join(entry.used_by)
            if len(entry.used_by) == operations > 1:
                users = "all covered operations"
            lines.append(f"  {entry.name} (used by {users})")
            lines += [f"    - {change.message}" for change in entry.changes]
    if report.notes:
        lines += ["", "Notes"]
        lines += [f"  - {note.message}" for note in report.notes]
    return "\n".join(lines) + "\n"


def _entry_json(entry: Entry, operation: bool) -> dict[str, Any]:
    head: dict[str, Any] = (
        {"operation_id": entry.name, "method": entry.method, "path": entry.path}
        if operation
        else {"name": entry.name}
    )
    head["status"] = entry.status
    if not operation:
        head["used_by"] = list(entry.used_by)
    head["changes"] = [{**asdict(change), "message": change.message} for change in entry.changes]
    return head


def render_json(report: Report) -> str:
    """The report as the JSON object documented at the top of this module."""
    data = {
        "format": JSONFORMAT,
        "pinned": report.pinned,
        "upstream": report.upstream,
        "identical": report.identical,
        "operations": [_entry_json(entry, True) for entry in report.operations],
        "schemas": [_entry_json(entry, False) for entry in report.schemas],
        "notes": [asdict(note) for note in report.notes],
        "extract": report.extract,
    }
    return json.dumps(data, indent=2, sort_keys=False) + "\n"
