"""``neon-keys rotate``: replace a key without a moment in which no key works.

The library does the rotation (``keys.rotate``: find, create, deliver to every sink, verify,
then revoke the old key, or with ``--grace`` keep it for ``retire``); this module turns
options into sinks, and what the rotation did (or where it stopped) into a report.

A signal stops the rotation between steps or during a request; a delivery is never cut
short. Whatever stopped it, a new key's secret is delivered to every sink first (or shown
once on stderr), and the report says what exists.
"""

from __future__ import annotations

import datetime
from typing import Any, Unpack

import click

from neon_keys._durations import format_duration
from neon_keys._exceptions import NeonError
from neon_keys._rotation import (
    Delivery,
    DeliveryStatus,
    Rotation,
    RotationError,
    RotationStep,
    interrupted_rotation,
)
from neon_keys._sinks import Sink, SinkError

from ._create import delivery_record
from ._errors import (
    CliError,
    ExitCode,
    Interruption,
    describe,
    exit_code_for,
    one_line,
    partial,
)
from ._interrupts import interrupted_create_report
from ._options import global_options, pass_session
from ._output import emit_json_report, emit_report, fmt_time, iso_time, key_label, key_record
from ._params import DURATION, KEY_ID, KEY_NAME, ORG_ID
from ._session import Session
from ._signals import GUARD, signal_name, signal_of
from ._sinks import (
    SinkOptions,
    build_sinks,
    command_line,
    deliver_all,
    done_texts,
    last_resort,
    refusal,
    sink_arguments,
    sink_options,
    uses_stdout,
    whereabouts,
)


class Report:
    """Words for what a rotation did. Strictly private."""

    def __init__(
        self, rotation: Rotation, sinks: list[Sink], options: SinkOptions, new_name: str | None
    ) -> None:
        self.rotation = rotation
        self.sinks = sinks
        self.options = options
        self.new_name = new_name

    @property
    def key_id(self) -> int:
        return self.rotation.key_id

    @property
    def org_id(self) -> str | None:
        return self.rotation.org_id

    @property
    def kept(self) -> str:
        """What the messages say of the old key until it is revoked."""
        return f"old key {self.key_id} NOT revoked"

    def revoke_command(self, key_id: int) -> str:
        org = f" --org {self.org_id}" if self.org_id else ""
        return f"neon-keys revoke {key_id}{org}"

    def rotate_command(self) -> str:
        """The command that runs this rotation again (no API key: it is never shown)."""
        words = ["neon-keys", "rotate", str(self.key_id)]
        if self.org_id:
            words += ["--org", self.org_id]
        if self.rotation.grace is not None:
            words += ["--grace", format_duration(self.rotation.grace)]
        if self.new_name is not None:
            words += ["--name", self.new_name]
        return command_line(words + sink_arguments(self.options))

    def created_and_delivered(self) -> str:
        """``new personal key 7 "ci" created and its secret saved to ci.token``; the sinks
        the rotation did not deliver to (a failure, or a stop before them) are named as such."""
        assert self.rotation.new is not None
        made = f"new {key_label(self.rotation.new)} created"
        status = {id(d.sink): d.status for d in self.rotation.deliveries}
        held = [s for s in self.sinks if status.get(id(s)) is DeliveryStatus.DELIVERED]
        missing = [s.target for s in self.sinks if s not in held]
        if not missing:
            return f"{made} and its secret {done_texts(self.sinks)}"
        if not held:
            return f"{made}; its secret NOT delivered to {', '.join(missing)} ({whereabouts([])})"
        return f"{made} and its secret {done_texts(held)}, NOT delivered to {', '.join(missing)}"

    def summary(self) -> str:
        """A few lines for a person, after a successful rotation."""
        rotation = self.rotation
        assert rotation.old is not None and rotation.new is not None
        staged = " (staged)" if rotation.staged else ""
        lines = [
            f"Rotated {key_label(rotation.old)}{staged}:",
            f"  new {key_label(rotation.new)} created, secret {done_texts(self.sinks)}, verified",
        ]
        if rotation.old_revoked:
            lines.append(f"  old key {rotation.old.id} revoked")
        else:
            assert rotation.grace is not None
            when = rotation.retire_after
            lines.append(
                f"  old key {rotation.old.id} kept: `neon-keys retire --grace "
                f"{format_duration(rotation.grace)}` revokes it from "
                f"{fmt_time(when)} UTC, or sooner with --quiet once it is no longer used"
            )
        return "\n".join(lines)

    def record(self, *, error: str | None, interrupted: int | None) -> dict[str, Any]:
        """The rotation as JSON (no secret)."""
        rotation = self.rotation
        done = {id(d.sink): d for d in rotation.deliveries}
        deliveries = [_delivery_record(sink, done.get(id(sink))) for sink in self.sinks]
        delivered = [d["target"] for d in deliveries if d["status"] == "delivered"]
        return {
            "old": key_record(rotation.old) if rotation.old is not None else None,
            "new": key_record(rotation.new) if rotation.new is not None else None,
            "secret_delivered_to": ", ".join(delivered) if delivered else None,
            "verified": rotation.verified,
            "old_revoked": rotation.old_revoked,
            "error": error,
            "interrupted": signal_name(interrupted) if interrupted else None,
            "deliveries": deliveries,
            "grace": format_duration(rotation.grace) if rotation.grace is not None else None,
            "retire_after": iso_time(rotation.retire_after),
        }

    def failure(self, err: RotationError, api_host: str | None) -> CliError:
        """The one-line error of a rotation that stopped at a failed step."""
        rotation = self.rotation
        cause = err.__cause__ if isinstance(err.__cause__, NeonError) else None
        explain = describe(cause, api_host=api_host) if cause is not None else err.reason
        code = exit_code_for(cause) if cause is not None else ExitCode.FAILURE
        key_id = self.key_id
        if rotation.step is RotationStep.FIND:
            if cause is None:
                scope = f"organization {self.org_id}" if self.org_id else "your personal keys"
                hint = "" if self.org_id else " (organization keys need --org)"
                return CliError(f"key {key_id} not found in {scope}{hint}; nothing changed")
            return CliError(
                f"could not list keys to find key {key_id}: {explain}; nothing changed", code
            )
        if rotation.step is RotationStep.CREATE or rotation.new is None:
            return CliError(
                f"could not create the replacement of key {key_id}: {explain}; {self.kept}", code
            )
        # From here on the new key exists: the rotation stopped midway.
        kind = partial(code)
        new = rotation.new
        if rotation.step is RotationStep.DELIVER:
            missing = "; ".join(
                f"{d.target} ({one_line(d.error) if d.error else d.status.value})"
                for d in rotation.undelivered
            )
            held = whereabouts([d.target for d in rotation.delivered])
            return CliError(
                f"new {key_label(new)} created but its secret could not be delivered to "
                f"{missing}; {held}; {self.kept}; to finish, rotate "
                f"again: {self.rotate_command()} (then revoke key {new.id}, this attempt's: "
                f"{self.revoke_command(new.id)})",
                kind=kind,
            )
        if rotation.step is RotationStep.VERIFY:
            return CliError(
                f"{self.created_and_delivered()}, but it failed verification "
                f"({one_line(cause) if cause is not None else err.reason}); "
                f"{self.kept}",
                kind=kind,
            )
        return CliError(
            f"{self.created_and_delivered()} and verified, but revoking old key {key_id} "
            f"failed ({explain}); revoke it with: {self.revoke_command(key_id)}",
            code,
            kind,
        )

    def interruption(self, interrupt: BaseException | None) -> str:
        """What exists after a signal stopped the rotation at its current step."""
        rotation = self.rotation
        step = rotation.step
        if step is RotationStep.FIND or (step is RotationStep.CREATE and interrupt is None):
            return "nothing changed"
        if step is RotationStep.CREATE:
            made = interrupted_create_report(
                interrupt or KeyboardInterrupt(),
                name=self.new_name or (rotation.old.name if rotation.old else ""),
                org_id=self.org_id,
                known=[self.key_id],
            )
            return f"{made}; {self.kept}"
        done = self.created_and_delivered()
        if step in (RotationStep.DELIVER, RotationStep.VERIFY):
            return (
                f"{done}, not verified; {self.kept} (once the new key works: "
                f"{self.revoke_command(self.key_id)})"
            )
        if step is RotationStep.REVOKE:
            return (
                f"{done} and verified; revoking old key {self.key_id} was interrupted: it may "
                f"or may not be revoked (to be sure: {self.revoke_command(self.key_id)} "
                "--missing-ok)"
            )
        if rotation.staged:
            return f"{done} and verified; old key {self.key_id} kept: the rotation is complete"
        return f"{done} and verified; old key {self.key_id} revoked: the rotation is complete"


def _delivery_record(sink: Sink, delivery: Delivery | None) -> dict[str, Any]:
    if delivery is None:
        return delivery_record(sink, None, DeliveryStatus.NOT_ATTEMPTED.value)
    return delivery_record(sink, delivery.error, delivery.status.value)


def _finish_deliveries(report: Report, session: Session) -> None:
    """Deliver the new secret to every sink that does not hold it yet (held from signals),
    then, if some still do not, show it once on stderr."""
    rotation = report.rotation
    new = rotation.new
    if new is None or new.secret is None:
        return
    status = {id(d.sink): d for d in rotation.deliveries}
    held = [
        s for s in report.sinks if (d := status.get(id(s))) and d.status is DeliveryStatus.DELIVERED
    ]
    failed: list[tuple[Sink, BaseException | None]] = [
        (d.sink, d.error) for d in rotation.deliveries if d.status is DeliveryStatus.FAILED
    ]
    # Sinks never reached (the rotation was stopped before them): deliver now.
    todo = [s for s in report.sinks if id(s) not in status]
    deliveries = list(rotation.deliveries)
    for sink, error in deliver_all(todo, new.secret):
        if error is None:
            held.append(sink)
            deliveries.append(Delivery(sink, DeliveryStatus.DELIVERED))
        else:
            failed.append((sink, error))
            deliveries.append(Delivery(sink, DeliveryStatus.FAILED, error))
    # A delivery a library user's interruption cut short may or may not have happened.
    failed += [
        (d.sink, None) for d in rotation.deliveries if d.status is DeliveryStatus.INTERRUPTED
    ]
    report.rotation = _with_deliveries(rotation, deliveries)
    if failed:
        last_resort(
            new.secret.reveal(),
            key_label(new),
            failed,
            report.revoke_command(new.id),
            delivered=held,
        )


def _with_deliveries(rotation: Rotation, deliveries: list[Delivery]) -> Rotation:
    import dataclasses  # noqa: PLC0415

    return dataclasses.replace(rotation, deliveries=tuple(deliveries))


@click.command("rotate")
@click.argument("key_id", type=KEY_ID, metavar="ID")
@click.option("--org", type=ORG_ID, metavar="ORG", help="The key belongs to this organization.")
@click.option(
    "--grace",
    type=DURATION,
    metavar="DURATION",
    help="Keep the old key (staged rotation); `neon-keys retire --grace DURATION` revokes it "
    "once DURATION has passed, or sooner once it is no longer used (90s, 12h, 7d).",
)
@click.option(
    "--name",
    "new_name",
    type=KEY_NAME,
    metavar="NAME",
    help="Name the new key (default: the old name; not with --grace).",
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
    grace: datetime.timedelta | None,
    new_name: str | None,
    **sink_args: Unpack[SinkOptions],
) -> None:
    """Replace key ID with a new key; then revoke the old one, or with --grace keep it.

    The secret goes to every sink given (stdout by default). The old key is revoked only
    after every delivery succeeded and the new key was verified; if a step fails, or the
    command is interrupted, it stops and says exactly which keys exist.
    """
    if grace is not None and new_name is not None:
        raise click.UsageError(
            "--name does not go with --grace: retire finds the old key by its name"
        )
    sinks = build_sinks(**sink_args)
    on_stderr = uses_stdout(sinks)
    keys = session.scope(org)
    report = Report(_started(key_id, org, grace), sinks, sink_args, new_name)
    with GUARD.hold():
        try:
            GUARD.check()
            report.rotation = keys.rotate(
                key_id, grace=grace, deliver=sinks, new_name=new_name, checkpoint=GUARD.check
            )
            GUARD.check()
        except SinkError as err:
            raise refusal(err) from None
        except KeyboardInterrupt as interrupt:
            signum = signal_of(interrupt)
            report.rotation = interrupted_rotation(interrupt) or report.rotation
            _remember(session, report.rotation)
            _finish_deliveries(report, session)
            text = report.interruption(interrupt)
            if session.json:
                emit_json_report(report.record(error=text, interrupted=signum), err=on_stderr)
            raise Interruption(signum, text) from None
        except RotationError as err:
            report.rotation = err.rotation
            _remember(session, err.rotation)
            _finish_deliveries(report, session)
            failure = report.failure(err, session.base_url)
            if session.json:
                emit_json_report(
                    report.record(error=failure.message, interrupted=None), err=on_stderr
                )
            if GUARD.pending is not None:
                raise Interruption(GUARD.pending, report.interruption(None)) from None
            # The library error behind it, if any, goes into a JSON error's library_error.
            raise failure from (err.__cause__ if isinstance(err.__cause__, NeonError) else None)
        _remember(session, report.rotation)
        record = report.record(error=None, interrupted=None)
        if session.json:
            output_failure = emit_json_report(record, err=on_stderr)
        else:
            output_failure = emit_report(report.summary(), err=on_stderr)
        if GUARD.pending is not None:
            raise Interruption(GUARD.pending, report.interruption(None))
    if output_failure is not None:
        raise output_failure


def _started(key_id: int, org: str | None, grace: datetime.timedelta | None) -> Rotation:
    return Rotation(key_id, org, grace)


def _remember(session: Session, rotation: Rotation) -> None:
    if rotation.new is not None and rotation.new.secret is not None:
        session.remember_secret(rotation.new.secret.reveal())
