"""Key policy as code: one reviewed file says which keys exist, how old they get, where
their secrets go and what is not allowed.

    from neon_keys import NeonKeys, policy

    with NeonKeys() as neon:
        wanted = policy.load("neon-keys.toml")
        changes = policy.plan(neon, wanted)      # what differs, and why
        outcomes = policy.apply(neon, changes)   # make it so

See docs/policy.md for every field of the file.
"""

from __future__ import annotations

from ._api import apply, plan
from ._apply import Applied, Outcome, OutcomeStatus, interrupted_apply
from ._load import DEFAULT_FILE, PolicyFileError, Problem, load, loads
from ._model import (
    ExpiredLeases,
    KeyDeclaration,
    PersonalKeys,
    Policy,
    Rules,
    Scopes,
    Target,
    Undeclared,
)
from ._plan import (
    Action,
    Create,
    Note,
    Plan,
    PolicyFinding,
    Retire,
    Revoke,
    RevokeCause,
    Rotate,
)

__all__ = [
    "DEFAULT_FILE",
    "Action",
    "Applied",
    "Create",
    "ExpiredLeases",
    "KeyDeclaration",
    "Note",
    "Outcome",
    "OutcomeStatus",
    "PersonalKeys",
    "Plan",
    "Policy",
    "PolicyFileError",
    "PolicyFinding",
    "Problem",
    "Retire",
    "Revoke",
    "RevokeCause",
    "Rotate",
    "Rules",
    "Scopes",
    "Target",
    "Undeclared",
    "apply",
    "interrupted_apply",
    "load",
    "loads",
    "plan",
]
