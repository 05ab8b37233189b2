"""Rotation: replace a key without a moment in which no key works.

    rotation = neon.org(org_id).keys.rotate(key_id, grace=timedelta(days=1), deliver=[sink])

The steps, each only after the previous one succeeded:

1. check every sink (``Sink.check``): a destination that cannot take the secret costs
   nothing;
2. find the old key (by listing) to learn its name, kind and project;
3. create the replacement: the same name and scope (a project key's project);
4. deliver the new secret to every sink, in order (a failed one does not stop the others);
5. verify it: ``GET /auth`` with the new secret must answer, as the same kind of key (and
   for an organization's key, the same organization);
6. without ``grace``, revoke the old key; with ``grace``, keep it: a staged rotation, which
   ``retire`` finishes once the grace period has passed or the old key has gone quiet.

The old key is never revoked unless every delivery succeeded and the new key was verified.
A step that fails raises ``RotationError``, whose ``rotation`` says what exists (the new key
with its secret, which sinks hold it); an interruption from outside (Ctrl-C, a cancelled
task) is re-raised as it is, carrying the same record (``interrupted_rotation(exc)``).

The flow is written once (``_steps``) for ``KeyScope`` and ``AsyncKeyScope``.
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from . import _operations as ops
from . import _validation
from ._durations import MAX_DURATION, format_duration
from ._exceptions import InvalidInputError, NeonError, NotFoundError
from ._interrupts import find_carried
from ._lease_names import LeaseName
from ._leases import create_flow
from ._models import AuthDetails, KeyKind, OrgKey, ProjectKey
from ._resource import NeonNow
from ._sinks import Sink, deliver_secret
from ._steps import Call, Flow

if TYPE_CHECKING:
    from ._models import APIKey
    from ._operations import Operation

__all__ = [
    "Delivery",
    "DeliveryStatus",
    "Rotation",
    "RotationError",
    "RotationStep",
    "check_grace",
    "check_new_name",
    "interrupted_rotation",
    "rotation_flow",
]

_ATTRIBUTE = "neon_keys_interrupted_rotation"
"""The attribute of an interrupting exception under which the rotation's record travels."""


class RotationStep(enum.StrEnum):
    """The step a rotation is at, or stopped in (``DONE`` once it is complete)."""

    FIND = "find"
    CREATE = "create"
    DELIVER = "deliver"
    VERIFY = "verify"
    REVOKE = "revoke"
    DONE = "done"


class DeliveryStatus(enum.StrEnum):
    """What became of the new secret at one sink."""

    DELIVERED = "delivered"
    """The sink holds it."""
    FAILED = "failed"
    """The sink refused or failed; ``error`` says why. It does not hold it."""
    INTERRUPTED = "interrupted"
    """An interruption came while it was being delivered: it may or may not hold it."""
    NOT_ATTEMPTED = "not_attempted"
    """The rotation stopped before this sink's turn."""


@dataclass(frozen=True, slots=True)
class Delivery:
    """The outcome of delivering the new secret to one sink.

    Attributes:
        sink: the sink.
        status: what became of the secret there.
        error: why it failed (``FAILED`` only), else None.
    """

    sink: Sink
    status: DeliveryStatus
    error: Exception | None = None

    @property
    def target(self) -> str:
        """The sink's ``target``."""
        return self.sink.target


@dataclass(frozen=True, slots=True)
class Rotation:
    """What a rotation did: the record ``rotate`` returns, and errors carry.

    Attributes:
        key_id: the key being replaced.
        org_id: its organization (None for a personal key).
        grace: how long the old key was to be kept (None: revoked at once).
        step: the step it stopped in; ``DONE`` when it is complete.
        old: the old key as listed (None before it was found).
        new: the replacement, its ``secret`` set (None before it was created).
        deliveries: one per sink, in order.
        verified: whether ``GET /auth`` with the new secret answered as expected.
        old_revoked: whether the old key was revoked by this rotation (or found gone).
    """

    key_id: int
    org_id: str | None
    grace: datetime.timedelta | None
    step: RotationStep = RotationStep.FIND
    old: APIKey | None = None
    new: APIKey | None = None
    deliveries: tuple[Delivery, ...] = ()
    verified: bool = False
    old_revoked: bool = False

    @property
    def staged(self) -> bool:
        """Whether the old key is kept for a grace period (``retire`` revokes it later)."""
        return self.grace is not None

    @property
    def complete(self) -> bool:
        """Whether every step succeeded."""
        return self.step is RotationStep.DONE

    @property
    def delivered(self) -> tuple[Delivery, ...]:
        """The deliveries that succeeded."""
        return tuple(d for d in self.deliveries if d.status is DeliveryStatus.DELIVERED)

    @property
    def undelivered(self) -> tuple[Delivery, ...]:
        """The deliveries that did not (certainly) succeed."""
        return tuple(d for d in self.deliveries if d.status is not DeliveryStatus.DELIVERED)

    @property
    def retire_after(self) -> datetime.datetime | None:
        """When the grace period ends (the replacement's creation plus ``grace``), or None."""
        if self.grace is None or self.new is None or self.new.created_at is None:
            return None
        return self.new.created_at + self.grace

    def describe(self) -> str:
        """One sentence saying what exists, for messages and notes (never the secret)."""
        old = f"old key {self.key_id}"
        if self.new is None:
            return f"no replacement was created; {old} is unchanged"
        new = f"new key {self.new.id}"
        parts = [f"{new} was created"]
        if self.delivered:
            parts.append(f"delivered to {', '.join(d.target for d in self.delivered)}")
        if self.undelivered:
            parts.append(f"NOT to {', '.join(d.target for d in self.undelivered)}")
        parts.append("verified" if self.verified else "not verified")
        if self.old_revoked:
            parts.append(f"{old} revoked")
        elif self.complete:
            parts.append(f"{old} kept for a grace period of {format_duration(self.grace or _ZERO)}")
        else:
            parts.append(f"{old} NOT revoked")
        return "; ".join(parts)

    def attach(self, interruption: BaseException) -> None:
        """Carry this record on ``interruption``, with a note saying what exists (PEP 678)."""
        setattr(interruption, _ATTRIBUTE, self)
        interruption.add_note(
            f"neon_keys: rotation of key {self.key_id} interrupted: {self.describe()}"
        )


_ZERO = datetime.timedelta(0)


class RotationError(NeonError):
    """A rotation stopped at a failed step; ``rotation`` says what exists.

    The old key is never revoked before every delivery succeeded and the new key was
    verified. When a replacement was created, ``rotation.new.secret`` holds its token:
    deliver it by hand, or revoke the replacement and rotate again.

    Attributes:
        rotation: the record of what the rotation did before it stopped.
    """

    def __init__(self, message: str, rotation: Rotation, *, reason: str | None = None) -> None:
        self.rotation = rotation
        self.reason = reason or message
        """Why the step failed, without the rest of the story (for messages of one's own)."""
        super().__init__(message)


def interrupted_rotation(exc: BaseException) -> Rotation | None:
    """What a rotation interrupted from outside (Ctrl-C, a cancelled task) left, or None.

    Pass the exception that ended ``rotate``; the exceptions it was raised from and the
    members of an exception group are looked at too.
    """
    return find_carried(exc, _ATTRIBUTE, Rotation)


def check_grace(grace: object) -> datetime.timedelta | None:
    """``grace`` if it is None or a duration from zero to ``MAX_DURATION``."""
    if grace is None:
        return None
    if not isinstance(grace, datetime.timedelta):
        raise InvalidInputError("grace", f"must be a timedelta, not {type(grace).__name__}")
    if grace < _ZERO or grace > MAX_DURATION:
        raise InvalidInputError("grace", f"must be between 0 and {MAX_DURATION.days} days", grace)
    return grace


def check_sinks(deliver: Sink | Iterable[Sink]) -> tuple[Sink, ...]:
    """The sinks, each a ``Sink``; ``InvalidInputError`` otherwise."""
    sinks = (deliver,) if isinstance(deliver, Sink) else tuple(deliver)
    for sink in sinks:
        if not isinstance(sink, Sink):
            raise InvalidInputError(
                "deliver",
                f"must hold Sink objects (target, check, deliver), not {type(sink).__name__}",
            )
    return sinks


# -- the flow --------------------------------------------------------------------------------

Perform = Callable[["Operation[Any]"], Any]
Checkpoint = Callable[[], None]


def check_new_name(new_name: object, grace: datetime.timedelta | None) -> str | None:
    """``new_name`` if a rotation may give its replacement that name (None: the old one's)."""
    if new_name is None:
        return None
    if grace is not None:
        raise InvalidInputError(
            "new_name", "a staged rotation (grace) keeps the name: retire finds the old key by it"
        )
    return _validation.key_name(new_name)


def rotation_flow(
    scope: Any,
    perform: Perform,
    neon_now: NeonNow,
    key_id: object,
    *,
    grace: object,
    deliver: Sink | Iterable[Sink],
    new_name: object = None,
    checkpoint: Checkpoint | None = None,
) -> Flow[Rotation]:
    """Rotate ``key_id`` of ``scope`` (see the module docstring).

    ``perform`` performs an operation with the scope's client (the verification);
    ``neon_now`` is its client's ``server_now`` (a lease's replacement is stamped by it);
    ``new_name`` names the replacement (None: the old key's name, or for a lease a fresh
    lease of its base name); ``checkpoint`` is called between steps (never during the
    deliveries), and what it raises stops the rotation as an interruption does. Every
    argument is checked before anything is sent.
    """
    checked_id = _validation.key_id(key_id)
    checked_grace = check_grace(grace)
    rotation = Rotation(checked_id, scope.org_id, checked_grace)
    name = check_new_name(new_name, checked_grace)
    sinks = check_sinks(deliver)
    for sink in sinks:
        yield Call(sink.check, blocking=True)
    try:
        rotation = yield from _steps(
            scope,
            perform=perform,
            neon_now=neon_now,
            rotation=rotation,
            sinks=sinks,
            new_name=name,
            checkpoint=checkpoint,
        )
    except RotationError:
        raise
    except NeonError as err:
        raise RotationError(str(err), rotation) from err
    return rotation


def _steps(  # noqa: PLR0915  (the steps one after another, read top to bottom)
    scope: Any,
    *,
    perform: Perform,
    neon_now: NeonNow,
    rotation: Rotation,
    sinks: Sequence[Sink],
    new_name: str | None,
    checkpoint: Checkpoint | None,
) -> Flow[Rotation]:
    key_id = rotation.key_id
    kept = f"old key {key_id} NOT revoked"

    def check(at: Rotation) -> None:
        if checkpoint is None:
            return
        try:
            checkpoint()
        except BaseException as interruption:
            at.attach(interruption)
            raise

    check(rotation)
    # 1. find
    try:
        listing = yield Call(scope.list)
    except NeonError as err:
        raise RotationError(
            f"could not list the keys to find key {key_id}: {err}; nothing changed", rotation
        ) from err
    except BaseException as interruption:
        rotation.attach(interruption)
        raise
    old = next((key for key in listing if key.id == key_id), None)
    if old is None:
        where = f"organization {rotation.org_id}" if rotation.org_id else "the personal keys"
        raise RotationError(f"key {key_id} not found among {where}; nothing changed", rotation)
    rotation = dataclasses.replace(rotation, old=old, step=RotationStep.CREATE)
    lease = LeaseName.parse(old.name) if new_name is None else None
    lifetime = _lifetime(old, lease) if lease is not None else None
    if lease is not None and lifetime is None:
        raise RotationError(
            f"key {key_id} is a lease ({old.name!r}) whose lifetime cannot be told from its "
            f"creation time ({_iso(old.created_at)}) and expiry: nothing changed",
            rotation,
        )
    check(rotation)
    # 2. create: the same name, or a lease of the same base name and lifetime, or new_name
    project_id = _project_of(old)
    try:
        if lease is not None and lifetime is not None:
            # Stamped on Neon's clock as the listing just read it, to the whole second as
            # Neon records creation times: the new lease is listed with the same lifetime.
            stamp = _whole_seconds(neon_now)
            new = yield from create_flow(scope, stamp, lease.base_name, lifetime, project_id)
        else:
            new = yield Call(scope.create, (new_name or old.name,), {"project_id": project_id})
    except NeonError as err:
        raise RotationError(
            f"could not create the replacement of key {key_id}: {err}; {kept}", rotation
        ) from err
    except BaseException as interruption:
        rotation.attach(interruption)
        raise
    rotation = dataclasses.replace(rotation, new=new, step=RotationStep.DELIVER)
    # 3. deliver, to every sink whatever happens to the others
    secret = new.secret
    assert secret is not None
    deliveries: list[Delivery] = []
    for index, sink in enumerate(sinks):
        try:
            yield Call(deliver_secret, (sink, secret), blocking=True)
        except Exception as err:
            deliveries.append(Delivery(sink, DeliveryStatus.FAILED, err))
        except BaseException as interruption:
            deliveries.append(Delivery(sink, DeliveryStatus.INTERRUPTED))
            deliveries += [Delivery(s, DeliveryStatus.NOT_ATTEMPTED) for s in sinks[index + 1 :]]
            dataclasses.replace(rotation, deliveries=tuple(deliveries)).attach(interruption)
            raise
        else:
            deliveries.append(Delivery(sink, DeliveryStatus.DELIVERED))
        rotation = dataclasses.replace(rotation, deliveries=tuple(deliveries))
    if rotation.undelivered:
        failed = "; ".join(f"{d.target}: {_one_line(d.error)}" for d in rotation.undelivered)
        raise RotationError(
            f"new key {new.id} was created but its secret could not be delivered ({failed}); "
            f"{kept}",
            rotation,
            reason=failed,
        )
    rotation = dataclasses.replace(rotation, step=RotationStep.VERIFY)
    check(rotation)
    # 4. verify
    try:
        auth = yield Call(perform, (ops.get_auth_details(secret),))
    except NeonError as err:
        raise RotationError(
            f"new key {new.id} failed verification ({err}); {kept}", rotation
        ) from err
    except BaseException as interruption:
        rotation.attach(interruption)
        raise
    problem = _verification_problem(new, auth, rotation.org_id)
    if problem:
        raise RotationError(
            f"new key {new.id} failed verification ({problem}); {kept}", rotation, reason=problem
        )
    rotation = dataclasses.replace(rotation, verified=True)
    if rotation.staged:
        return dataclasses.replace(rotation, step=RotationStep.DONE)
    # 5. revoke the old key
    rotation = dataclasses.replace(rotation, step=RotationStep.REVOKE)
    check(rotation)
    try:
        yield Call(scope.revoke, (key_id,))
    except NotFoundError:
        pass  # revoked meanwhile by someone else: gone, as wanted
    except NeonError as err:
        raise RotationError(
            f"new key {new.id} was created, delivered and verified, but revoking old key "
            f"{key_id} failed ({err})",
            rotation,
        ) from err
    except BaseException as interruption:
        rotation.attach(interruption)
        raise
    return dataclasses.replace(rotation, old_revoked=True, step=RotationStep.DONE)


def _verification_problem(new: APIKey, auth: AuthDetails, org_id: str | None) -> str | None:
    """Why ``GET /auth``'s answer does not fit the new key (None when it does)."""
    expected = KeyKind.PERSONAL if new.kind is KeyKind.PERSONAL else KeyKind.ORG
    if auth.key_kind is not expected:
        return f"it authenticates as {auth.auth_method!r}, not as a {expected.value} key"
    if org_id is not None and auth.account_id != org_id:
        return f"it authenticates for account {auth.account_id!r}, not organization {org_id!r}"
    return None


def _lifetime(old: APIKey, lease: LeaseName) -> datetime.timedelta | None:
    """How long the lease ``old`` was made to live: its expiry less its creation.

    Both are whole seconds on Neon's clock, so this is the lifetime its holder asked for,
    to the second. None when Neon gave no creation time, or the expiry is not after it.
    """
    if old.created_at is None:
        return None
    lifetime = lease.expires_at - old.created_at.replace(microsecond=0)
    return lifetime if lifetime >= _ONE_SECOND else None


_ONE_SECOND = datetime.timedelta(seconds=1)


def _whole_seconds(neon_now: NeonNow) -> NeonNow:
    """``neon_now`` with the fraction of a second dropped."""

    def now() -> datetime.datetime | None:
        moment = neon_now()
        return moment.replace(microsecond=0) if moment is not None else None

    return now


def _iso(moment: datetime.datetime | None) -> str:
    if moment is None:
        return "not given"
    return moment.astimezone(datetime.UTC).isoformat().replace("+00:00", "Z")


def _project_of(key: APIKey) -> str | None:
    return key.project_id if isinstance(key, ProjectKey) else None


def _one_line(error: BaseException | None) -> str:
    if error is None:
        return "interrupted"
    return " ".join(str(error).split()) or type(error).__name__


def org_of(key: APIKey) -> str | None:
    """The organization of a key (None for a personal key)."""
    return key.org_id if isinstance(key, OrgKey | ProjectKey) else None
