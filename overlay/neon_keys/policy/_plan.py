"""The plan: what ``apply`` would change, and why; findings that are only reported.

``compute`` is pure: from a policy, the listings of the scopes it manages, Neon's time and
the keys that may be making the call, it works out the actions, typed:

- ``Create``: a declared key has no live generation;
- ``Rotate``: its newest generation is older than ``rotate_every``, is a lease that has
  expired, or was never used (a create or rotation that did not finish: its secret may
  not be where the file says);
- ``Retire``: an older generation of a declared key, due under the retirement rule of
  ``neon_keys._retire`` (the entry's ``grace``, or none, and ``quiet``), counting the
  replacements this very plan creates;
- ``Revoke``: a key no entry declares (``undeclared = "revoke"``) or a lease past its
  expiry (``expired_leases = "revoke"``).

A retire or revoke that needs a replacement this plan makes names it in ``after``:
``apply`` carries it out only once that replacement was delivered and verified. Nothing
here revokes a key that may be making the call.
"""

from __future__ import annotations

import datetime
import enum
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from .. import _findings
from .._durations import format_duration
from .._findings import Finding, FindingCode, RuleSet
from .._leases import DEFAULT_GRACE as LEASE_SWEEP_GRACE
from .._models import APIKey, KeyKind, OrgKey, PersonalKey, ProjectKey
from .._retire import RetireStatus, age_order, plan_retirement, when
from ._model import ExpiredLeases, KeyDeclaration, PersonalKeys, Policy, Rules, Undeclared

__all__ = [
    "Action",
    "Create",
    "Note",
    "Plan",
    "PolicyFinding",
    "Retire",
    "Revoke",
    "RevokeCause",
    "Rotate",
    "compute",
]

_ZERO = datetime.timedelta(0)
_NEWEST_ID = 2**63 - 1  # stands for a key this plan creates: newer than any real one


def _scope_words(org_id: str | None) -> str:
    return f"organization {org_id}" if org_id else "personal keys"


# -- actions ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Action:
    """One change ``apply`` makes. Its subclasses say which.

    Attributes:
        org_id: the scope: the organization whose keys it changes (None: personal keys).
        reason: why, in words, with the times.
    """

    org_id: str | None
    reason: str

    @property
    def kind(self) -> str:
        """``create``, ``rotate``, ``retire`` or ``revoke``."""
        return type(self).__name__.lower()

    @property
    def identity(self) -> tuple[str, str | None, str]:
        """What the action is, without why: the same change has the same identity in two plans."""
        raise NotImplementedError

    def describe(self) -> str:
        """The action in a few words (``rotate org key 100003 "deploy"``)."""
        raise NotImplementedError


@dataclass(frozen=True, slots=True, kw_only=True)
class Create(Action):
    """Create the declared key, deliver its secret, verify it.

    Attributes:
        declaration: the ``[[keys]]`` entry.
    """

    declaration: KeyDeclaration

    @property
    def identity(self) -> tuple[str, str | None, str]:
        """See ``Action.identity``."""
        return ("create", self.org_id, str(self.declaration.target) + "/" + self.declaration.name)

    def describe(self) -> str:
        """See ``Action.describe``."""
        lease = " (a lease)" if self.declaration.is_lease else ""
        return f"create {self.declaration.target.kind.value} key {self.declaration.name!r}{lease}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Rotate(Action):
    """Replace ``key`` with a new generation: create, deliver, verify; the old key is kept
    (a ``Retire`` of this plan revokes it, at once or after its grace period).

    Attributes:
        declaration: the ``[[keys]]`` entry.
        key: the generation replaced.
    """

    declaration: KeyDeclaration
    key: APIKey

    @property
    def identity(self) -> tuple[str, str | None, str]:
        """See ``Action.identity``."""
        return ("rotate", self.org_id, str(self.key.id))

    def describe(self) -> str:
        """See ``Action.describe``."""
        return f"rotate {_key_words(self.key)}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Retire(Action):
    """Revoke an older generation of a declared key that is due.

    Attributes:
        declaration: the ``[[keys]]`` entry.
        key: the generation revoked.
        replacement: the key that took over from it (None when this plan creates it).
        after: the action of this plan whose new key replaces it (None: one in service).
    """

    declaration: KeyDeclaration
    key: APIKey
    replacement: APIKey | None
    after: Create | Rotate | None = None

    @property
    def identity(self) -> tuple[str, str | None, str]:
        """See ``Action.identity``."""
        return ("retire", self.org_id, str(self.key.id))

    def describe(self) -> str:
        """See ``Action.describe``."""
        return f"retire {_key_words(self.key)}"


class RevokeCause(enum.StrEnum):
    """Why a ``Revoke`` revokes its key."""

    UNDECLARED = "undeclared"
    """No entry declares it, and ``rules.undeclared`` is ``"revoke"``."""
    EXPIRED_LEASE = "expired_lease"
    """A lease past its expiry, and ``rules.expired_leases`` is ``"revoke"``."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Revoke(Action):
    """Revoke a key the rules say must go.

    Attributes:
        key: the key.
        cause: which rule.
        after: the action of this plan that must succeed first (an expired lease's
            replacement), or None.
    """

    key: APIKey
    cause: RevokeCause
    after: Create | Rotate | None = None

    @property
    def identity(self) -> tuple[str, str | None, str]:
        """See ``Action.identity``."""
        return ("revoke", self.org_id, str(self.key.id))

    def describe(self) -> str:
        """See ``Action.describe``."""
        return f"revoke {_key_words(self.key)}"


def _key_words(key: APIKey) -> str:
    project = f" (project {key.project_id})" if isinstance(key, ProjectKey) else ""
    return f'{key.kind.value} key {key.id} "{key.name}"{project}'


@dataclass(frozen=True, slots=True)
class PolicyFinding:
    """A key that breaks a rule of the file: reported, never acted on by itself.

    Attributes:
        org_id: its scope (None: personal keys).
        key: the key.
        code: the finding (``neon_keys`` findings: ``too_old``, ``never_used`` ...).
        rule: the field of ``[rules]`` it breaks (``max_age`` ...).
        line: the line of that rule in the file (of ``[scopes]`` for one it does not set).
        message: the finding in words.
    """

    org_id: str | None
    key: APIKey
    code: FindingCode
    rule: str
    line: int
    message: str


@dataclass(frozen=True, slots=True)
class Note:
    """Something the plan decided not to change, and why (a kept key, a spared one)."""

    org_id: str | None
    key: APIKey
    message: str


@dataclass(frozen=True, slots=True)
class Plan:
    """What ``apply`` would do now, and what is only reported.

    Attributes:
        policy: the policy it was computed from.
        now: Neon's time when the scopes were read.
        scopes: each managed scope (None: personal keys) and its live keys, as listed.
        actions: the changes, creates and rotations first, then retires and revokes.
        findings: keys that break a rule.
        notes: keys left alone on purpose, and why.
    """

    policy: Policy
    now: datetime.datetime
    scopes: tuple[tuple[str | None, tuple[APIKey, ...]], ...]
    actions: tuple[Action, ...]
    findings: tuple[PolicyFinding, ...]
    notes: tuple[Note, ...] = ()

    @property
    def changes(self) -> bool:
        """Whether ``apply`` has anything to do."""
        return bool(self.actions)

    def identities(self) -> list[tuple[str, str | None, str]]:
        """The identity of every action, in order (see ``Action.identity``)."""
        return [action.identity for action in self.actions]


# -- computing it ------------------------------------------------------------------------------

_RULE_OF = {
    FindingCode.TOO_OLD: "max_age",
    FindingCode.NEVER_USED: "min_age",
    FindingCode.UNUSED: "max_unused",
    FindingCode.OUTSIDE_NETWORKS: "allowed_networks",
    FindingCode.PERSONAL_KEY: "personal_keys",
    FindingCode.UNDECLARED: "undeclared",
    FindingCode.EXPIRED_LEASE: "expired_leases",
}


def compute(
    policy: Policy,
    listings: Mapping[str | None, Sequence[APIKey]],
    now: datetime.datetime,
    calling: Collection[int] = (),
) -> Plan:
    """The plan for ``policy`` given each managed scope's live keys at ``now`` (Neon's time).

    Args:
        policy: the policy.
        listings: each managed scope (an organization id; None for personal keys) and its
            keys, as listed.
        now: Neon's time when they were listed.
        calling: ids of keys that may be making the call: never revoked.
    """
    changes: list[Action] = []
    revocations: list[Action] = []
    findings: list[PolicyFinding] = []
    notes: list[Note] = []
    for org_id, listing in listings.items():
        scope = _ScopePlanner(policy, org_id, [k for k in listing if not k.revoked], now, calling)
        scope.run()
        changes += scope.changes
        revocations += scope.revocations
        findings += scope.findings
        notes += scope.notes
    return Plan(
        policy=policy,
        now=now,
        scopes=tuple((org_id, tuple(keys)) for org_id, keys in listings.items()),
        actions=(*changes, *revocations),
        findings=tuple(findings),
        notes=tuple(notes),
    )


class _ScopePlanner:
    """The plan of one managed scope. Strictly private."""

    def __init__(
        self,
        policy: Policy,
        org_id: str | None,
        keys: list[APIKey],
        now: datetime.datetime,
        calling: Collection[int],
    ) -> None:
        self.policy = policy
        self.rules = policy.rules
        self.org_id = org_id
        self.keys = sorted(keys, key=lambda key: key.id)
        self.now = now
        self.calling = calling
        self.changes: list[Create | Rotate] = []
        self.revocations: list[Action] = []
        self.findings: list[PolicyFinding] = []
        self.notes: list[Note] = []
        self.declared = [
            d for d in policy.keys if (d.target.org_id if d.target.org_id else None) == org_id
        ]
        self.handled: set[int] = set()  # keys some action of this plan revokes
        self.renewal: dict[int, Create | Rotate] = {}  # a generation's group's new key

    def run(self) -> None:
        held: set[int] = set()
        for declaration in self.declared:
            group = [key for key in self.keys if declaration.holds(key)]
            held.update(key.id for key in group)
            self.declared_key(declaration, group)
        judged = _findings.judge(self.keys, self.now, _rule_set(self.rules))
        found = {item.key.id: item.findings for item in judged}
        for key in self.keys:
            if key.id not in held:
                self.undeclared(key)
            # An expired lease first (a revoke may come with it), then the rules' findings.
            for finding in sorted(found.get(key.id, ()), key=_lease_first):
                if finding.code is FindingCode.EXPIRED_LEASE:
                    self.expired(key, finding)
                else:
                    self.report(key, finding)

    # -- declared keys ---------------------------------------------------------------------

    def declared_key(self, declaration: KeyDeclaration, group: list[APIKey]) -> None:
        group.sort(key=age_order)
        newest = group[-1] if group else None
        action = self.renew(declaration, newest)
        if action is not None:
            self.changes.append(action)
            for key in group:
                self.renewal[key.id] = action
        projected = list(group)
        if action is not None:
            projected.append(_new_generation(declaration, self.now))
        outcomes = plan_retirement(
            projected,
            now=self.now,
            grace=declaration.grace or _ZERO,
            quiet=declaration.quiet,
            calling=self.calling,
        )
        for outcome in outcomes:
            key = outcome.key
            made_here = outcome.replacement is not None and outcome.replacement.id == _NEWEST_ID
            if outcome.status is not RetireStatus.DUE:
                if outcome.replacement is not None or action is None:
                    message = outcome.message if not made_here else _in_grace(declaration)
                    self.notes.append(Note(self.org_id, key, f"kept: {message}"))
                continue
            self.handled.add(key.id)
            self.revocations.append(
                Retire(
                    org_id=self.org_id,
                    reason=_retire_reason(outcome.message, made_here, action),
                    declaration=declaration,
                    key=key,
                    replacement=None if made_here else outcome.replacement,
                    after=action if made_here else None,
                )
            )

    def renew(self, declaration: KeyDeclaration, newest: APIKey | None) -> Create | Rotate | None:
        """The create or rotation the declared key needs, if any."""
        if newest is None:
            return Create(org_id=self.org_id, reason="declared, missing", declaration=declaration)
        reason = None
        if newest.last_used_at is None:
            reason = (
                f"never used since it was created ({when(newest.created_at)}): a create or "
                "rotation that did not finish, so its secret may not be where the file says"
            )
        elif (
            declaration.is_lease and newest.expires_at is not None and newest.expires_at <= self.now
        ):
            reason = f"lease expired {when(newest.expires_at)}"
        elif (
            declaration.rotate_every is not None
            and newest.created_at is not None
            and self.now - newest.created_at >= declaration.rotate_every
        ):
            reason = (
                f"created {when(newest.created_at)}, older than rotate_every "
                f"({format_duration(declaration.rotate_every)})"
            )
        if reason is None:
            return None
        return Rotate(org_id=self.org_id, reason=reason, declaration=declaration, key=newest)

    # -- other keys ------------------------------------------------------------------------

    def undeclared(self, key: APIKey) -> None:
        if key.expires_at is not None:
            return  # a lease: its holder revokes it, or expired_leases decides
        if key.id in self.calling:
            self.notes.append(
                Note(self.org_id, key, "declared by no entry, but may be the key making this call")
            )
            return
        finding = Finding(FindingCode.UNDECLARED, "declared by no [[keys]] entry")
        self.report(key, finding)
        if self.rules.undeclared is Undeclared.REVOKE:
            self.handled.add(key.id)
            self.revocations.append(
                Revoke(
                    org_id=self.org_id,
                    reason='declared by no entry; rules.undeclared is "revoke"',
                    key=key,
                    cause=RevokeCause.UNDECLARED,
                )
            )

    def expired(self, key: APIKey, finding: Finding) -> None:
        """Report a lease past its expiry; revoke it if the rules say so and it is safe."""
        self.report(key, finding)
        expiry = key.expires_at
        assert expiry is not None
        swept = expiry + LEASE_SWEEP_GRACE <= self.now
        if self.rules.expired_leases is not ExpiredLeases.REVOKE or not swept:
            return
        if key.id in self.handled:
            return
        if key.id in self.calling:
            self.notes.append(
                Note(self.org_id, key, "expired, but may be the key making this call")
            )
            return
        self.handled.add(key.id)
        self.revocations.append(
            Revoke(
                org_id=self.org_id,
                reason=f'lease expired {when(expiry)}; rules.expired_leases is "revoke"',
                key=key,
                cause=RevokeCause.EXPIRED_LEASE,
                after=self.renewal.get(key.id),
            )
        )

    def report(self, key: APIKey, finding: Finding) -> None:
        rule = _RULE_OF[finding.code]
        line = self.rules.lines.get(rule, self.policy.line)
        self.findings.append(
            PolicyFinding(self.org_id, key, finding.code, rule, line, finding.message)
        )


def _rule_set(rules: Rules) -> RuleSet:
    """The findings ``rules`` asks for, as the library judges them (``neon_keys._findings``)."""
    return RuleSet(
        min_age=rules.min_age,
        max_unused=rules.max_unused,
        max_age=rules.max_age,
        allowed_networks=rules.allowed_networks,
        forbid_personal=rules.personal_keys is PersonalKeys.FORBID,
    )


def _lease_first(finding: Finding) -> bool:
    return finding.code is not FindingCode.EXPIRED_LEASE


def _new_generation(declaration: KeyDeclaration, now: datetime.datetime) -> APIKey:
    """A stand-in for the key a create or rotation of this plan makes: new, and in service."""
    name = declaration.name
    if declaration.ttl is not None:
        from .._lease_names import LeaseName  # noqa: PLC0415

        name = LeaseName.new(declaration.name, now + declaration.ttl).name
    fields = {
        "id": _NEWEST_ID,
        "name": name,
        "created_at": now,
        "created_by": None,
        "last_used_at": now,
    }
    target = declaration.target
    if target.kind is KeyKind.PERSONAL:
        return PersonalKey(**fields)  # type: ignore[arg-type]
    assert target.org_id is not None
    if target.kind is KeyKind.ORG:
        return OrgKey(org_id=target.org_id, **fields)  # type: ignore[arg-type]
    assert target.project_id is not None
    return ProjectKey(org_id=target.org_id, project_id=target.project_id, **fields)  # type: ignore[arg-type]


def _in_grace(declaration: KeyDeclaration) -> str:
    grace = format_duration(declaration.grace or _ZERO)
    quiet = (
        f", or sooner once quiet for {format_duration(declaration.quiet)}"
        if declaration.quiet
        else ""
    )
    return f"replaced by this plan's new key; kept for its grace period ({grace}){quiet}"


def _retire_reason(message: str, made_here: bool, action: Action | None) -> str:
    if not made_here:
        return message
    # Due as soon as its replacement exists: only without a grace period.
    assert action is not None
    return f"replaced by the new key of this plan's {action.kind}, once delivered and verified"
