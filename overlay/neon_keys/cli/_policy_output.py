"""Showing plans, findings and outcomes of a policy file: tables for people, JSON for programs.

The JSON records are part of the documented interface (docs/cli.md): fields are only added.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ._output import NONE, clean, fmt_time, iso_time, key_record, plural, render_table

if TYPE_CHECKING:
    from neon_keys.policy import Applied, Outcome, Plan, PolicyFinding
    from neon_keys.policy._plan import Action, Note


def scope_title(org_id: str | None, count: int) -> str:
    """``Organization org-1 (12 keys):`` or ``Personal keys (3 keys):``."""
    where = f"Organization {org_id}" if org_id else "Personal keys"
    return f"{where} ({plural(count, 'key')}):"


def key_cell(action: Action) -> str:
    """The key an action is about: ``100003 "deploy"``, or the declared name for a create."""
    key = getattr(action, "key", None)
    if key is not None:
        return f'{key.id} "{key.name}"'
    declaration = action.declaration  # type: ignore[attr-defined]
    return f'new "{declaration.name}"'


def plan_text(plan: Plan) -> str:
    """The plan as a person reads it: per scope, each action, finding and kept key, and why."""
    blocks = []
    for org_id, keys in plan.scopes:
        rows = [
            [action.kind, key_cell(action), action.reason]
            for action in plan.actions
            if action.org_id == org_id
        ]
        rows += [
            ["finding", f'{f.key.id} "{f.key.name}"', f"{f.rule}: {f.message}"]
            for f in plan.findings
            if f.org_id == org_id
        ]
        rows += [
            ["keep", f'{n.key.id} "{n.key.name}"', n.message]
            for n in plan.notes
            if n.org_id == org_id
        ]
        body = render_table(("action", "key", "why"), rows) if rows else "No changes, no findings."
        blocks.append(f"{scope_title(org_id, len(keys))}\n{body}")
    return "\n\n".join(blocks)


def plan_summary(plan: Plan) -> str:
    """``Plan: 1 to create, 2 to rotate, 0 to retire, 0 to revoke; 3 findings.``"""
    counts = {kind: 0 for kind in ("create", "rotate", "retire", "revoke")}
    for action in plan.actions:
        counts[action.kind] += 1
    changes = ", ".join(f"{count} to {kind}" for kind, count in counts.items())
    findings = plural(len(plan.findings), "finding")
    if not plan.actions:
        return f"No changes; {findings}."
    return f"Plan: {changes}; {findings}."


def action_record(action: Action) -> dict[str, Any]:
    """An action as JSON (docs/cli.md)."""
    declaration = getattr(action, "declaration", None)
    key = getattr(action, "key", None)
    after = getattr(action, "after", None)
    return {
        "action": action.kind,
        "org_id": action.org_id,
        "key": key_record(key) if key is not None else None,
        "declared": None
        if declaration is None
        else {
            "index": declaration.index,
            "line": declaration.line,
            "name": declaration.name,
            "scope": str(declaration.target),
        },
        "reason": action.reason,
        "after": None if after is None else {"action": after.kind, "key_id": _key_id(after)},
    }


def _key_id(action: Action) -> int | None:
    key = getattr(action, "key", None)
    return key.id if key is not None else None


def finding_record(finding: PolicyFinding) -> dict[str, Any]:
    """A finding as JSON."""
    return {
        "org_id": finding.org_id,
        "key": key_record(finding.key),
        "code": finding.code.value,
        "rule": finding.rule,
        "line": finding.line,
        "message": finding.message,
    }


def note_record(note: Note) -> dict[str, Any]:
    """A kept key as JSON."""
    return {
        "org_id": note.org_id,
        "key_id": note.key.id,
        "name": note.key.name,
        "message": note.message,
    }


def plan_record(plan: Plan) -> dict[str, Any]:
    """The plan as JSON (docs/cli.md)."""
    return {
        "file": plan.policy.path,
        "now": iso_time(plan.now),
        "changes": plan.changes,
        "scopes": [{"org_id": org_id, "keys": len(keys)} for org_id, keys in plan.scopes],
        "actions": [action_record(action) for action in plan.actions],
        "findings": [finding_record(finding) for finding in plan.findings],
        "kept": [note_record(note) for note in plan.notes],
    }


def findings_table(findings: Sequence[PolicyFinding]) -> str:
    """The findings of ``check``: scope, key, rule, what."""
    rows = [
        [
            f.org_id or "personal",
            str(f.key.id),
            f.key.name,
            f.rule,
            f.message,
            fmt_time(f.key.last_used_at, "never"),
        ]
        for f in findings
    ]
    return render_table(("scope", "id", "name", "rule", "finding", "last used"), rows)


def annotation(finding: PolicyFinding, file: str) -> str:
    """A GitHub Actions error annotation of ``finding``, at the line of its rule."""
    where = f"organization {finding.org_id}" if finding.org_id else "personal keys"
    key = finding.key
    text = f'{key.kind.value} key {key.id} "{clean(key.name)}" ({where}): {finding.message}'
    place = f"file={_escape(file, True)},line={finding.line},title={_escape(finding.rule, True)}"
    return f"::error {place}::{_escape(text)}"


def _escape(text: str, property_value: bool = False) -> str:
    """GitHub's workflow-command escaping (``%``, line breaks; ``:`` and ``,`` in properties)."""
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if property_value:
        text = text.replace(":", "%3A").replace(",", "%2C")
    return text


def outcome_record(outcome: Outcome) -> dict[str, Any]:
    """An outcome as JSON (docs/cli.md); never with a secret."""
    new = outcome.new_key
    return {
        **action_record(outcome.action),
        "outcome": outcome.status.value,
        "ok": outcome.ok,
        "message": outcome.message,
        "new_key_id": new.id if new is not None else None,
        "delivered": list(outcome.delivered),
    }


def outcomes_table(applied: Applied) -> str:
    """One row per action: what it was, and what became of it."""
    rows = [
        [
            o.action.kind,
            o.action.org_id or "personal",
            key_cell(o.action),
            o.status.value.replace("_", " "),
            o.message,
        ]
        for o in applied.outcomes
    ]
    rows += [
        [
            a.kind,
            a.org_id or "personal",
            key_cell(a),
            "not done",
            "not in the plan shown: run plan again",
        ]
        for a in applied.unplanned
    ]
    return render_table(("action", "scope", "key", "outcome", "detail"), rows) if rows else NONE


def applied_record(applied: Applied, shown: Plan) -> dict[str, Any]:
    """What ``apply`` did, as JSON: the plan shown, each outcome, what was not shown."""
    return {
        "plan": plan_record(shown),
        "outcomes": [outcome_record(outcome) for outcome in applied.outcomes],
        "unplanned": [action_record(action) for action in applied.unplanned],
        "ok": applied.ok,
    }


def applied_summary(applied: Applied) -> str:
    """``Applied 4 of 4 actions.``, with what went wrong."""
    done = sum(outcome.ok for outcome in applied.outcomes)
    text = f"Applied {done} of {plural(len(applied.outcomes), 'action')}."
    if applied.unplanned:
        text += (
            f" {plural(len(applied.unplanned), 'change')} the world now calls for "
            "were not in the plan shown, and were not made: run plan again."
        )
    return text
