"""Leases: keys that live for one block of code, and the sweep that removes the forgotten ones.

    with neon.org(org_id).keys.lease("preview-42", ttl=timedelta(hours=1), project_id=p) as key:
        deploy(token=key.secret.reveal())
    # revoked here, whatever happened in the block

    neon.personal_keys.sweep()   # revoke the expired leases a crash left behind

A lease is an ordinary key whose name carries its expiry (``LeaseName``); Neon does not
enforce it. The holder revokes it when the block ends; a sweep revokes it once it has
expired, by Neon's clock, if the holder could not (killed, its machine gone).

The logic is written once, as flows (``_steps``) that yield the calls to make and receive
their results; ``run`` and ``arun`` perform them with or without ``await``. The
scope is any ``KeyScope`` or ``AsyncKeyScope``; ``neon_now`` is its client's ``server_now``.
"""

from __future__ import annotations

import datetime
import logging
import time
from collections.abc import Sequence
from dataclasses import replace
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from ._bulk import RevokeOutcome, RevokeStatus
from ._clock_guard import check_neon_now
from ._constants import (
    DEFAULT_LEASE_TTL,
    LEASE_CLOCK_TOLERANCE,
    LEASE_REVOKE_TIMEOUT,
    LEASE_SWEEP_GRACE,
)
from ._durations import MAX_DURATION, format_duration
from ._exceptions import CreateOutcomeUnknownError, InvalidInputError, NeonError, NotFoundError
from ._interrupts import interrupted_create
from ._lease_names import LeaseName, check_base_name
from ._models import APIKey
from ._resource import NeonNow
from ._steps import Call, Flow, arun, run

if TYPE_CHECKING:
    from ._scope import AsyncKeyScope, KeyScope

__all__ = [
    "DEFAULT_GRACE",
    "DEFAULT_TTL",
    "AsyncLease",
    "Lease",
    "LeaseRevokeError",
    "asweep",
    "create_flow",
    "create_lease",
    "expired_leases",
    "sweep",
]

logger = logging.getLogger("neon_keys")

K = TypeVar("K", bound=APIKey)

DEFAULT_TTL = datetime.timedelta(seconds=DEFAULT_LEASE_TTL)
"""How long a lease lives unless told otherwise: one hour."""

DEFAULT_GRACE = datetime.timedelta(seconds=LEASE_SWEEP_GRACE)
"""How long past its expiry a sweep leaves a lease alone: five minutes."""

_TOLERANCE = datetime.timedelta(seconds=LEASE_CLOCK_TOLERANCE)


class LeaseRevokeError(NeonError):
    """A lease could not be revoked; it stays valid until revoked by hand or by a sweep.

    Attributes:
        key_id: the lease's key id.
        key_name: its name (which carries its expiry).
        expires_at: when it expires, on Neon's clock; a sweep revokes it after that.
        cause: why the revoke failed (also the exception's ``__cause__``), or None.
    """

    def __init__(self, key: APIKey, cause: BaseException | None, *, reason: str = "") -> None:
        self.key_id = key.id
        self.key_name = key.name
        self.expires_at = key.expires_at
        self.cause = cause
        why = reason or " ".join(str(cause).split()) or type(cause).__name__
        expiry = _iso(self.expires_at) if self.expires_at else "its expiry"
        super().__init__(
            f"could not revoke lease key {key.id} ({key.name!r}): {why}; it stays valid "
            f"until revoked (revoke({key.id}), or neon-keys revoke {key.id}) or until a "
            f"sweep removes it after {expiry}"
        )


# -- checks ------------------------------------------------------------------------------------


def check_ttl(ttl: object) -> datetime.timedelta:
    """Return ``ttl`` if it can be a lease's lifetime: a ``timedelta`` of 1 s to ~100 years."""
    if not isinstance(ttl, datetime.timedelta):
        raise InvalidInputError(
            "ttl",
            f"must be a datetime.timedelta (such as timedelta(hours=1)), not {type(ttl).__name__}",
        )
    if ttl < datetime.timedelta(seconds=1):
        raise InvalidInputError("ttl", "must be at least one second", format_duration(ttl))
    if ttl > MAX_DURATION:
        raise InvalidInputError("ttl", f"must be at most {MAX_DURATION.days} days")
    return ttl


def check_grace(grace: object) -> datetime.timedelta:
    """Return ``grace`` if it is a ``timedelta`` of zero or more."""
    if not isinstance(grace, datetime.timedelta):
        raise InvalidInputError(
            "grace", f"must be a datetime.timedelta, not {type(grace).__name__}"
        )
    if grace < datetime.timedelta(0):
        raise InvalidInputError("grace", "must not be negative", format_duration(grace))
    return grace


def expired_leases(
    keys: Sequence[K], now: datetime.datetime, grace: datetime.timedelta = DEFAULT_GRACE
) -> list[K]:
    """The live leases among ``keys`` whose expiry plus ``grace`` is not after ``now``."""
    return [
        key
        for key in keys
        if not key.revoked and (expiry := key.expires_at) is not None and expiry + grace <= now
    ]


# -- creating a lease ------------------------------------------------------------------------


def create_flow(
    scope: Any, neon_now: NeonNow, base_name: str, ttl: datetime.timedelta, project_id: str | None
) -> Flow[Any]:
    """Create a lease stamped on Neon's clock; the new key, its secret included.

    The expiry is stamped from Neon's time as the client last saw it, or this machine's
    before any answer. Neon's answer says when it really made the key (``created_at``); if
    the stamp missed that by more than ``LEASE_CLOCK_TOLERANCE``, the key is revoked and
    made again, stamped from that ``created_at`` plus the time elapsed here since.
    """
    estimate = neon_now()
    trusted = estimate is not None
    if estimate is None:
        estimate = datetime.datetime.now(datetime.UTC)
    started = time.monotonic()
    key = yield from _create_one(scope, LeaseName.new(base_name, estimate + ttl), project_id)
    answered = time.monotonic()
    elapsed = datetime.timedelta(seconds=answered - started)
    made_at = key.created_at or neon_now()
    off = _stamp_error(estimate, elapsed, made_at)
    if off is None:
        return key
    logger.warning(
        "lease %s was stamped by %s, which is %s %s Neon's; making it again on Neon's time",
        key.id,
        "Neon's clock as last seen" if trusted else "this machine's clock",
        format_duration(abs(off)),
        "behind" if off > datetime.timedelta(0) else "ahead of",
    )
    try:
        yield Call(scope.revoke, (key.id,))
    except NotFoundError:
        pass
    except NeonError as err:
        raise LeaseRevokeError(key, err) from err
    # Neon's record of the creation, not the Date: a Date that disagrees with it is the
    # likelier to be wrong (a proxy's clock), and a lease stamped by it might never expire.
    if made_at is not None:
        now = made_at + datetime.timedelta(seconds=time.monotonic() - answered)
    else:
        now = neon_now() or estimate
    return (yield from _create_one(scope, LeaseName.new(base_name, now + ttl), project_id))


def _stamp_error(
    estimate: datetime.datetime, elapsed: datetime.timedelta, made_at: datetime.datetime | None
) -> datetime.timedelta | None:
    """How far the stamp's idea of Neon's time missed the creation, or None if close enough.

    The key was made between sending (``estimate``) and the answer (``elapsed`` later), so
    only a creation time outside that window, by more than the tolerance, is a miss.
    """
    if made_at is None:
        return None
    if made_at < estimate - _TOLERANCE:
        return made_at - estimate
    if made_at > estimate + elapsed + _TOLERANCE:
        return made_at - (estimate + elapsed)
    return None


def _create_one(scope: Any, name: LeaseName, project_id: str | None) -> Flow[Any]:
    """Create the key ``name``; if the answer is lost, revoke the key it may have made.

    A lease's name is unique (its random token), so a key of that very name is this
    attempt's own, and revoking it cannot touch anyone else's key.
    """
    try:
        return (yield Call(scope.create, (name.name,), {"project_id": project_id}))
    except CreateOutcomeUnknownError as err:
        for candidate in err.candidates or ():
            if candidate.name != name.name:
                continue
            try:
                yield Call(scope.revoke, (candidate.id,))
            except NotFoundError:
                pass
            except NeonError as revoke_error:
                err.add_note(f"revoking it failed: {LeaseRevokeError(candidate, revoke_error)}")
            else:
                err.add_note(f"lease key {candidate.id} ({candidate.name!r}) was found and revoked")
        raise
    except BaseException as interruption:  # Ctrl-C, a cancellation: no time for a revoke
        found = interrupted_create(interruption)
        ours = (
            [key.id for key in (found.candidates or ()) if key.name == name.name] if found else []
        )
        if ours:
            interruption.add_note(
                f"neon_keys: key {', '.join(map(str, ours))} is a lease ({name.name!r}): if "
                f"nobody revokes it, a sweep removes it after {_iso(name.expires_at)}"
            )
        raise


def create_lease(
    scope: KeyScope,
    neon_now: NeonNow,
    base_name: str,
    *,
    ttl: datetime.timedelta = DEFAULT_TTL,
    project_id: str | None = None,
) -> APIKey:
    """Create a lease in ``scope`` (no block: the caller revokes it); see ``Lease``."""
    check_base_name(base_name)
    return run(create_flow(scope, neon_now, base_name, check_ttl(ttl), project_id))  # type: ignore[no-any-return]


# -- releasing it ------------------------------------------------------------------------------


def _revoke_flow(scope: Any, key: APIKey) -> Flow[NeonError | None]:
    """Revoke ``key``; the error if that failed (a key already gone is fine)."""
    try:
        yield Call(scope.revoke, (key.id,))
    except NotFoundError:  # revoked already, by its holder or a sweep
        return None
    except NeonError as err:
        return err
    return None


def _settle(key: APIKey, error: LeaseRevokeError | None, exc: BaseException | None) -> None:
    """Raise ``error`` unless the block is ending with an interruption, which goes on.

    ``KeyboardInterrupt``, ``SystemExit`` and a task's cancellation keep their type (code
    up the stack depends on it): the failure is then added to them as a note and logged.
    """
    if error is None:
        return
    if exc is not None and not isinstance(exc, Exception):
        exc.add_note(str(error))
        logger.warning("%s", error)
        return
    raise error from error.cause


def _interrupted_revoke(key: APIKey, interruption: BaseException) -> BaseException:
    interruption.add_note(
        f"the revoke of lease key {key.id} ({key.name!r}) was interrupted; if it is still "
        f"live, a sweep removes it after {_iso(key.expires_at) if key.expires_at else 'expiry'}"
    )
    return interruption


# -- the context managers ------------------------------------------------------------------


class Lease(Generic[K]):
    """A key that lives for the ``with`` block: created on entry, revoked on exit.

    Made by ``personal_keys.lease(...)`` or ``org(id).keys.lease(...)``, which check their
    input at once (nothing is sent before the block is entered). Entering creates the key
    (its name carries the expiry, see ``LeaseName``) and returns it, its ``secret`` set.
    Leaving revokes it, after a normal end, an exception, ``KeyboardInterrupt`` or
    ``SystemExit``. If that revoke fails, ``LeaseRevokeError`` is raised (naming the key
    and when a sweep will remove it); when the block ends with an interruption, the
    interruption goes on instead, carrying that message as a note.

    A lease is entered once. ``key`` is the key while the block runs (None before).
    """

    def __init__(
        self,
        scope: KeyScope,
        neon_now: NeonNow,
        base_name: str,
        *,
        ttl: datetime.timedelta = DEFAULT_TTL,
        project_id: str | None = None,
    ) -> None:
        self._scope = scope
        self._neon_now = neon_now
        self.base_name = check_base_name(base_name)
        self.ttl = check_ttl(ttl)
        self.project_id = project_id
        self.key: K | None = None
        self._entered = False

    def __repr__(self) -> str:
        held = f" key={self.key.id}" if self.key is not None else ""
        return f"<Lease {self.base_name!r} ttl={format_duration(self.ttl)}{held}>"

    def __enter__(self) -> K:
        if self._entered:
            raise RuntimeError("a Lease is entered once; call lease() again for another key")
        self._entered = True
        flow = create_flow(self._scope, self._neon_now, self.base_name, self.ttl, self.project_id)
        key: K = run(flow)
        self.key = key
        return key

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        key = self.key
        if key is None:
            return
        try:
            failure = run(_revoke_flow(self._scope, key))
        except BaseException as interruption:  # a second Ctrl-C during the revoke
            raise _interrupted_revoke(key, interruption) from None
        _settle(key, LeaseRevokeError(key, failure) if failure else None, exc)


class AsyncLease(Generic[K]):
    """The ``async with`` twin of ``Lease``; revoked even when the task is cancelled.

    The revoke is shielded from cancellation and bounded: it gets
    ``LEASE_REVOKE_TIMEOUT`` seconds (30), after which the lease is left to a sweep and
    ``LeaseRevokeError`` says so (a note on the cancellation, if the task was cancelled).
    """

    def __init__(
        self,
        scope: AsyncKeyScope,
        neon_now: NeonNow,
        base_name: str,
        *,
        ttl: datetime.timedelta = DEFAULT_TTL,
        project_id: str | None = None,
        revoke_timeout: float = LEASE_REVOKE_TIMEOUT,
    ) -> None:
        self._scope = scope
        self._neon_now = neon_now
        self.base_name = check_base_name(base_name)
        self.ttl = check_ttl(ttl)
        self.project_id = project_id
        self.revoke_timeout = revoke_timeout
        self.key: K | None = None
        self._entered = False

    def __repr__(self) -> str:
        held = f" key={self.key.id}" if self.key is not None else ""
        return f"<AsyncLease {self.base_name!r} ttl={format_duration(self.ttl)}{held}>"

    async def __aenter__(self) -> K:
        if self._entered:
            raise RuntimeError("a lease is entered once; call lease() again for another key")
        self._entered = True
        flow = create_flow(self._scope, self._neon_now, self.base_name, self.ttl, self.project_id)
        key: K = await arun(flow)
        self.key = key
        return key

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        import anyio  # noqa: PLC0415  (an httpx dependency; async code has it loaded already)

        key = self.key
        if key is None:
            return
        failure: NeonError | None = None
        with anyio.CancelScope(shield=True):
            with anyio.move_on_after(self.revoke_timeout) as bounded:
                failure = await arun(_revoke_flow(self._scope, key))
        error = LeaseRevokeError(key, failure) if failure else None
        if bounded.cancelled_caught:
            error = LeaseRevokeError(
                key, None, reason=f"no answer within {self.revoke_timeout:g} s"
            )
        _settle(key, error, exc)


# -- sweeping ----------------------------------------------------------------------------------


def _sweep_flow(
    scope: Any, neon_now: NeonNow, dry_run: bool, grace: datetime.timedelta
) -> Flow[list[RevokeOutcome[Any]]]:
    keys = yield Call(scope.list)
    now = neon_now()
    if now is None:  # an answer without Date (a proxy that strips it): the next best
        now = datetime.datetime.now(datetime.UTC)
        logger.warning("Neon's answer carried no Date header; judging expiry by this clock")
    expired = expired_leases(keys, now, grace)
    if expired:
        check_neon_now(now, keys, acting="sweep")
    if dry_run or not expired:
        return [RevokeOutcome(key.id, RevokeStatus.DRY_RUN, key=key) for key in expired]
    outcomes = yield Call(scope.revoke_many, ([key.id for key in expired],))
    listed = {key.id: key for key in expired}
    return [o if o.key is not None else replace(o, key=listed[o.key_id]) for o in outcomes]


def sweep(
    scope: KeyScope,
    neon_now: NeonNow,
    *,
    dry_run: bool = False,
    grace: datetime.timedelta = DEFAULT_GRACE,
) -> list[RevokeOutcome[Any]]:
    """Revoke the leases of ``scope`` expired ``grace`` ago or more, by Neon's clock."""
    return run(_sweep_flow(scope, neon_now, dry_run, check_grace(grace)))


async def asweep(
    scope: AsyncKeyScope,
    neon_now: NeonNow,
    *,
    dry_run: bool = False,
    grace: datetime.timedelta = DEFAULT_GRACE,
) -> list[RevokeOutcome[Any]]:
    """The awaiting twin of ``sweep``."""
    return await arun(_sweep_flow(scope, neon_now, dry_run, check_grace(grace)))


def _iso(moment: datetime.datetime | None) -> str:
    if moment is None:
        return "never"
    return moment.astimezone(datetime.UTC).isoformat().replace("+00:00", "Z")
