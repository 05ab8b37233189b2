"""Comparing two descriptions: the covered operations (those of the pinned one), every
component schema they reach, the upstream operations in covered tags, and the excluded list."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from .model import Change, Entry, Note, Report
from .operations import Operation, facts_of, index, reached
from .refs import Document, as_document
from .schemas import Facts, Schemas

# How a path into a schema names what is nested in it (properties are ``a.b``).
NESTED_SUFFIX = {"items": "[]", "not": "(not)", "additionalProperties": "{}"}


def _kind(left: Any, right: Any) -> str:
    if left is None:
        return "added"
    if right is None:
        return "removed"
    return "changed"


def _child(at: str, name: str) -> str:
    return f"{at}.{name}" if at else name


def diff_schema(left: Facts, right: Facts, where: str = "", at: str = "") -> list[Change]:
    """Differences between two flattened schemas, property by property."""
    if left.get("$ref") != right.get("$ref"):
        return [Change(where, at, "schema", "changed", left, right)]
    changes: list[Change] = []
    left_props, right_props = left.get("properties", {}), right.get("properties", {})
    for key in sorted((set(left) | set(right)) - {"$ref", "properties"}):
        a, b = left.get(key), right.get(key)
        if key == "required":
            for name in sorted(set(a or ()) ^ set(b or ())):
                if (name in left_props) != (name in right_props):
                    continue  # reported with the property itself
                now = name in (b or ())
                changes.append(Change(where, _child(at, name), "required", "changed", not now, now))
        elif key in NESTED_SUFFIX and isinstance(a, dict) and isinstance(b, dict):
            changes.extend(diff_schema(a, b, where, at + NESTED_SUFFIX[key]))
        elif a != b:
            changes.append(Change(where, at, key, _kind(a, b), a, b))
    for name in sorted(set(left_props) | set(right_props)):
        path = _child(at, name)
        if name not in right_props:
            described = _with_required(left_props[name], name, left)
            changes.append(Change(where, path, "property", "removed", described, None))
        elif name not in left_props:
            described = _with_required(right_props[name], name, right)
            changes.append(Change(where, path, "property", "added", None, described))
        else:
            changes.extend(diff_schema(left_props[name], right_props[name], where, path))
    return changes


def _with_required(prop: Facts, name: str, parent: Facts) -> Facts:
    return {**prop, "required": True} if name in parent.get("required", ()) else prop


def _diff_fields(left: Facts, right: Facts, where: str, skip: Iterable[str] = ()) -> list[Change]:
    changes = []
    for key in sorted((set(left) | set(right)) - set(skip)):
        a, b = left.get(key), right.get(key)
        if a != b:
            changes.append(Change(where, "", key, _kind(a, b), a, b))
    return changes


def _diff_content(left: Facts, right: Facts, where: str) -> list[Change]:
    changes: list[Change] = []
    for media in sorted(set(left) | set(right)):
        if media not in right:
            changes.append(Change(where, "", "media type", "removed", media, None))
        elif media not in left:
            changes.append(Change(where, "", "media type", "added", None, media))
        else:
            changes.extend(diff_schema(left[media], right[media], f"{where} {media}".strip()))
    return changes


def _diff_parameter(left: Facts, right: Facts, where: str) -> list[Change]:
    changes = _diff_fields(left, right, where, skip=("schema", "content"))
    changes.extend(diff_schema(left.get("schema", {}), right.get("schema", {}), where))
    changes.extend(_diff_content(left.get("content", {}), right.get("content", {}), where))
    return changes


def _diff_keyed(
    left: Facts,
    right: Facts,
    label: str,
    fact: str,
    inner: Callable[[Facts, Facts, str], list[Change]],
) -> list[Change]:
    changes: list[Change] = []
    for key in sorted(set(left) | set(right)):
        where = f"{label} {key}".strip()
        if key not in right:
            changes.append(Change(where, "", fact, "removed", left[key], None))
        elif key not in left:
            changes.append(Change(where, "", fact, "added", None, right[key]))
        else:
            changes.extend(inner(left[key], right[key], where))
    return changes


def _diff_response(left: Facts, right: Facts, where: str) -> list[Change]:
    changes = _diff_content(left["content"], right["content"], where)
    changes.extend(
        _diff_keyed(left["headers"], right["headers"], f"{where} header", "header", _diff_parameter)
    )
    return changes


def diff_operation(left: Facts, right: Facts) -> list[Change]:
    """Differences between the facts of the same operation in two descriptions."""
    changes = _diff_fields(left, right, "", skip=("parameters", "requestBody", "responses"))
    changes.extend(
        _diff_keyed(
            left["parameters"], right["parameters"], "parameter", "parameter", _diff_parameter
        )
    )
    lbody, rbody = left.get("requestBody"), right.get("requestBody")
    if lbody is None or rbody is None:
        if lbody != rbody:
            changes.append(
                Change("request body", "", "request body", _kind(lbody, rbody), lbody, rbody)
            )
    else:
        changes.extend(_diff_fields(lbody, rbody, "request body", skip=("content",)))
        changes.extend(_diff_content(lbody["content"], rbody["content"], "request body"))
    changes.extend(
        _diff_keyed(left["responses"], right["responses"], "response", "response", _diff_response)
    )
    return changes


def _missing_operation(mine: Operation, upstream_ops: Mapping[str, Operation]) -> Entry:
    place = f"{mine.method} {mine.path}"
    renamed = next(
        (
            op.key
            for op in upstream_ops.values()
            if (op.method, op.path) == (mine.method, mine.path)
        ),
        None,
    )
    change = Change("", "", "operation", "removed", place, renamed)
    return Entry(mine.key, "missing_upstream", (change,), mine.method, mine.path)


def _operation_entries(
    left_ops: Mapping[str, Operation],
    right_ops: Mapping[str, Operation],
    left_facts: Mapping[str, Facts],
    right_facts: Mapping[str, Facts],
    excluded: set[str],
) -> list[Entry]:
    """Covered operations that changed or went missing, then new ones in covered tags."""
    entries: list[Entry] = []
    for key in sorted(left_ops):
        mine = left_ops[key]
        if key not in right_facts:
            entries.append(_missing_operation(mine, right_ops))
            continue
        changes = diff_operation(left_facts[key], right_facts[key])
        if changes:
            entries.append(Entry(key, "changed", tuple(changes), mine.method, mine.path))
    covered_tags = {tag for op in left_ops.values() for tag in op.tags}
    for key, theirs in sorted(right_ops.items()):
        tags = sorted(covered_tags.intersection(theirs.tags))
        if key in left_ops or key in excluded or not tags:
            continue
        change = Change("", "", "operation", "added", None, {"tags": tags})
        entries.append(Entry(key, "new_upstream", (change,), theirs.method, theirs.path))
    return entries


def _schema_entries(
    left_schemas: Schemas,
    right_schemas: Schemas,
    left_users: Mapping[str, set[str]],
    right_users: Mapping[str, set[str]],
) -> list[Entry]:
    """Reached component schemas that changed, went missing, appeared, or fell out of use."""
    entries: list[Entry] = []
    for name in sorted(set(left_users) | set(right_users)):
        users = tuple(sorted(left_users.get(name, set()) | right_users.get(name, set())))
        if name not in right_schemas:
            change = Change("", "", "schema", "removed", left_schemas[name], None)
            entries.append(Entry(name, "missing_upstream", (change,), used_by=users))
        elif name not in left_schemas:
            change = Change("", "", "schema", "added", None, right_schemas[name])
            entries.append(Entry(name, "new_upstream", (change,), used_by=users))
        else:
            changes = diff_schema(left_schemas[name], right_schemas[name])
            if (name in left_users) != (name in right_users):
                now = name in right_users
                changes.insert(0, Change("", "", "used", "changed", not now, now))
            if changes:
                entries.append(Entry(name, "changed", tuple(changes), used_by=users))
    return entries


def _notes(
    left_ops: Mapping[str, Operation],
    right_ops: Mapping[str, Operation],
    excluded: set[str],
    extract: bool,
) -> list[Note]:
    """What the excluded list says next to the two descriptions."""
    notes: list[Note] = []
    absent = sorted(key for key in excluded if key not in left_ops and key not in right_ops)
    for key in sorted(excluded):
        if key in left_ops:
            message = f"{key} is covered and also listed as excluded; remove it from the list"
            notes.append(Note("excluded_but_covered", key, message))
        elif key in absent and not extract:
            message = (
                f"{key} is listed as excluded but is not in the upstream description; "
                "remove it from the list if Neon dropped it"
            )
            notes.append(Note("excluded_missing_upstream", key, message))
    if extract and absent:
        # An extract leaves out every operation we do not cover, so their absence says nothing.
        message = (
            f"the upstream description is an extract: it holds only covered operations "
            f"({len(right_ops)}), so the {len(absent)} excluded operations are absent from it "
            "as expected; the excluded list can be checked only against a full description"
        )
        notes.append(Note("upstream_is_extract", None, message))
    return notes


def diff(
    pinned: Document | Mapping[str, Any],
    upstream: Document | Mapping[str, Any],
    excluded: Iterable[str] = (),
    *,
    pinned_name: str = "pinned",
    upstream_name: str = "upstream",
) -> Report:
    """Compare the covered operations (those of ``pinned``) and the schemas they reach.

    An upstream description that holds no operation besides the covered ones is an extract:
    the report says so (``Report.extract``) instead of noting each excluded operation as gone.
    """
    left, right = as_document(pinned), as_document(upstream)
    left_ops, right_ops = index(left), index(right)
    excluded = set(excluded)
    left_facts = {key: facts_of(left, op) for key, op in sorted(left_ops.items())}
    right_facts = {key: facts_of(right, right_ops[key]) for key in left_facts if key in right_ops}
    left_schemas, right_schemas = Schemas(left), Schemas(right)
    left_users = reached(left_facts, left_schemas)
    right_users = reached(right_facts, right_schemas)
    extract = bool(right_ops) and set(right_ops) <= set(left_ops)
    return Report(
        pinned_name,
        upstream_name,
        tuple(_operation_entries(left_ops, right_ops, left_facts, right_facts, excluded)),
        tuple(_schema_entries(left_schemas, right_schemas, left_users, right_users)),
        tuple(_notes(left_ops, right_ops, excluded, extract)),
        (len(left_ops), len(set(left_users) | set(right_users))),
        extract,
    )
