"""``neon-keys rotate``: replace a key without a moment in which no key works.

The steps, each only after the previous one succeeded:

1. find the old key (by listing) to learn its name, kind and project;
2. create the replacement, with the same name (or a new one) and the same project scope;
3. deliver the new secret to its sink (shown once on stderr if that fails);
4. verify the new secret: ``GET /auth`` with it must succeed, as the expected kind of key;
5. revoke the old key.

When a step fails, or a signal stops it, rotation stops and says exactly what exists at
that point; the old key is never revoked before the new secret has been delivered and
verified. Delivery is never cut short: a signal during it is honoured once it is done.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any, Unpack

import click

from neon_keys._exceptions import NeonError, NotFoundError
from neon_keys._models import APIKey, KeyKind
from neon_keys._scope import KeyScope

from ._errors import CliError, ExitCode, Interruption, describe, exit_code_for, one_line
from ._interrupts import interrupted_create_report
from ._options import global_options, pass_session
from ._output import emit_json_report, emit_report, key_label, key_record, project_of
from ._params import KEY_ID, KEY_NAME, ORG_ID
from ._session import Session
from ._signals import GUARD, signal_name, signal_of
from ._sinks import Sink, SinkOptions, build_sink, deliver_or_show, sink_options


class Step(enum.Enum):
    """The step a rotation is at (or stopped in)."""

    FIND = "find"
    CREATE = "create"
    DELIVER = "deliver"
    VERIFY = "verify"
    REVOKE = "revoke"
    DONE = "done"


@dataclass
class Rotation:
    """What a rotation has done so far. Strictly private."""

    key_id: int
    org_id: str | None
    sink: Sink
    new_name: str | None = None
    """The replacement's name (the old key's, unless ``--name``)."""
    step: Step = Step.FIND
    old: APIKey | None = None
    new: APIKey | None = None
    delivered: bool = False
    verified: bool = False
    old_revoked: bool = False
    error: str | None = None
    interrupted: int | None = None
    """The signal that stopped the rotation, if one did."""

    def record(self) -> dict[str, Any]:
        """The rotation as JSON (no secret)."""
        return {
            "old": key_record(self.old) if self.old is not None else None,
            "new": key_record(self.new) if self.new is not None else None,
            "secret_delivered_to": self.sink.target if self.delivered else None,
            "verified": self.verified,
            "old_revoked": self.old_revoked,
            "error": self.error,
            "interrupted": signal_name(self.interrupted) if self.interrupted else None,
        }

    def summary(self) -> str:
        """A few lines for a person, after a successful rotation."""
        assert self.old is not None and self.new is not None
        return "\n".join(
            [
                f"Rotated {key_label(self.old)}:",
                f"  new {key_label(self.new)} created, secret {self.sink.done}, verified",
                f"  old key {self.old.id} revoked",
            ]
        )

    def revoke_command(self, key_id: int) -> str:
        """The command that revokes ``key_id`` in this rotation's scope."""
        org = f" --org {self.org_id}" if self.org_id else ""
        return f"neon-keys revoke {key_id}{org}"

    @property
    def kept(self) -> str:
        """What the messages say of the old key until it is revoked."""
        return f"old key {self.key_id} NOT revoked"

    @property
    def created_and_delivered(self) -> str:
        """``new personal key 7 "ci" created and its secret saved to ci.token``."""
        assert self.new is not None
        return f"new {key_label(self.new)} created and its secret {self.sink.done}"

    def interruption_report(self, interrupt: BaseException | None = None) -> str:
        """What exists after a signal stopped the rotation at its current step.

        ``interrupt`` is the exception that stopped it, which carries what the library
        learnt of a create it interrupted (None: the signal came once the rotation ended).
        """
        kept = self.kept
        if self.step is Step.FIND:
            return "nothing changed"
        if self.step is Step.CREATE:
            made = interrupted_create_report(
                interrupt or KeyboardInterrupt(),
                name=self.new_name or "",
                org_id=self.org_id,
                known=[self.key_id],
            )
            return f"{made}; {kept}"
        done = self.created_and_delivered
        if self.step is Step.VERIFY:
            return (
                f"{done}, not verified; {kept} (once the new key works: "
                f"{self.revoke_command(self.key_id)})"
            )
        if self.step is Step.REVOKE:
            return (
                f"{done} and verified; revoking old key {self.key_id} was interrupted: it may "
                f"or may not be revoked (to be sure: {self.revoke_command(self.key_id)} "
                "--missing-ok)"
            )
        return f"{done} and verified; old key {self.key_id} revoked: the rotation is complete"


class RotationError(CliError):
    """A rotation stopped; the message says what exists now."""

    def __init__(self, rotation: Rotation, message: str, exit_code: int) -> None:
        rotation.error = message
        self.rotation = rotation
        super().__init__(message, exit_code)


def rotate(session: Session, rotation: Rotation, *, new_name: str | None) -> Rotation:
    """Carry out ``rotation`` (see the module docstring); raises ``RotationError``.

    Run it inside ``GUARD.hold()``: a signal then stops it between steps or during a
    request, and ``Rotation.step`` says where. The new secret is remembered by ``session``
    before it is used, so that error messages can be scrubbed of it.
    """
    keys = session.scope(rotation.org_id)
    old = _find(session, keys, rotation)
    rotation.new_name = new_name or old.name
    rotation.step = Step.CREATE
    GUARD.check()
    new = _create(session, keys, rotation, old)
    rotation.step = Step.DELIVER
    _deliver(session, rotation, new)
    rotation.step = Step.VERIFY
    GUARD.check()
    _verify(session, rotation, new)
    rotation.step = Step.REVOKE
    GUARD.check()
    _revoke_old(session, keys, rotation)
    rotation.step = Step.DONE
    return rotation


def _explain(session: Session, err: NeonError) -> str:
    return describe(err, api_host=session.base_url)


def _find(session: Session, keys: KeyScope, rotation: Rotation) -> APIKey:
    """Step 1: the old key, from the listing."""
    key_id = rotation.key_id
    try:
        listing = keys.list()
    except NeonError as err:
        raise RotationError(
            rotation,
            f"could not list keys to find key {key_id}: {_explain(session, err)}; nothing changed",
            exit_code_for(err),
        ) from err
    old = next((key for key in listing if key.id == key_id), None)
    if old is None:
        scope = f"organization {rotation.org_id}" if rotation.org_id else "your personal keys"
        hint = "" if rotation.org_id else " (organization keys need --org)"
        raise RotationError(
            rotation, f"key {key_id} not found in {scope}{hint}; nothing changed", ExitCode.FAILURE
        )
    rotation.old = old
    return old


def _create(session: Session, keys: KeyScope, rotation: Rotation, old: APIKey) -> APIKey:
    """Step 2: the replacement, of the same scope (and project)."""
    try:
        new = keys.create(rotation.new_name or old.name, project_id=project_of(old))
    except NeonError as err:
        raise RotationError(
            rotation,
            f"could not create the replacement of key {rotation.key_id}: "
            f"{_explain(session, err)}; {rotation.kept}",
            exit_code_for(err),
        ) from err
    rotation.new = new
    assert new.secret is not None
    session.remember_secret(new.secret.reveal())
    return new


def _deliver(session: Session, rotation: Rotation, new: APIKey) -> None:
    """Step 3: the new secret to its sink, or once on stderr."""
    assert new.secret is not None
    failure = deliver_or_show(
        rotation.sink,
        new.secret.reveal(),
        key=key_label(new),
        revoke=rotation.revoke_command(new.id),
    )
    if failure is not None:
        raise RotationError(
            rotation,
            f"new {key_label(new)} created but its secret could not be delivered to "
            f"{rotation.sink.target} ({one_line(failure)}); it was shown above, once; "
            f"{rotation.kept}",
            ExitCode.FAILURE,
        )
    rotation.delivered = True


def _verify(session: Session, rotation: Rotation, new: APIKey) -> None:
    """Step 4: ``GET /auth`` with the new secret, as the expected kind of key."""
    done = rotation.created_and_delivered
    assert new.secret is not None
    try:
        auth = session.client().with_options(api_key=new.secret).whoami()
    except NeonError as err:
        raise RotationError(
            rotation,
            f"{done}, but it failed verification ({one_line(err)}); {rotation.kept}",
            ExitCode.FAILURE,
        ) from err
    expected = KeyKind.PERSONAL if new.kind is KeyKind.PERSONAL else KeyKind.ORG
    if auth.key_kind is not expected:
        raise RotationError(
            rotation,
            f"{done}, but it failed verification (it authenticates as {auth.auth_method!r}, "
            f"not as a {expected.value} key); {rotation.kept}",
            ExitCode.FAILURE,
        )
    rotation.verified = True


def _revoke_old(session: Session, keys: KeyScope, rotation: Rotation) -> None:
    """Step 5: the old key."""
    key_id = rotation.key_id
    try:
        keys.revoke(key_id)
    except NotFoundError:
        pass  # Revoked meanwhile by someone else: the old key is gone, as wanted.
    except NeonError as err:
        raise RotationError(
            rotation,
            f"{rotation.created_and_delivered} and verified, but revoking old key {key_id} "
            f"failed ({_explain(session, err)}); revoke it with: "
            f"{rotation.revoke_command(key_id)}",
            exit_code_for(err),
        ) from err
    rotation.old_revoked = True


@click.command("rotate")
@click.argument("key_id", type=KEY_ID, metavar="ID")
@click.option("--org", type=ORG_ID, metavar="ORG", help="The key belongs to this organization.")
@click.option(
    "--name",
    "new_name",
    type=KEY_NAME,
    metavar="NAME",
    help="Name the new key (default: the old name).",
)
@sink_options
@global_options()
@pass_session
def rotate_key(
    session: Session,
    /,
    *,
    key_id: int,
    org: str | None,
    new_name: str | None,
    **sink_args: Unpack[SinkOptions],
) -> None:
    """Replace key ID with a new key, then revoke the old one.

    The old key is revoked only after the new secret was delivered and verified; if a step
    fails, or the command is interrupted, it stops and says exactly which keys exist.
    """
    sink = build_sink(**sink_args)
    rotation = Rotation(key_id, org, sink)
    with GUARD.hold():
        try:
            rotate(session, rotation, new_name=new_name)
            GUARD.check()
        except KeyboardInterrupt as interrupt:
            rotation.interrupted = signal_of(interrupt)
            rotation.error = rotation.interruption_report(interrupt)
            if session.json:
                emit_json_report(rotation.record(), err=sink.uses_stdout)
            raise Interruption(rotation.interrupted, rotation.error) from None
        except RotationError:
            if session.json:
                emit_json_report(rotation.record(), err=sink.uses_stdout)
            raise
        if session.json:
            output_failure = emit_json_report(rotation.record(), err=sink.uses_stdout)
        else:
            output_failure = emit_report(rotation.summary(), err=sink.uses_stdout)
        if GUARD.pending is not None:
            raise Interruption(GUARD.pending, rotation.interruption_report())
    if output_failure is not None:
        raise output_failure
