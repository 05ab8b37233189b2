"""Rotation: replace a key without a moment in which neither the old nor the new one works.

The steps, each only after the previous one succeeded:

1. find the old key (by listing) to learn its name, kind and project;
2. create the replacement, with the same name (or a new one) and the same project scope;
3. deliver the new secret to its sink (shown once on stderr if that fails);
4. verify the new secret: ``GET /auth`` with it must succeed, as the expected kind of key;
5. revoke the old key.

When a step fails, rotation stops and the error says exactly what exists at that point; the
old key is never revoked before the new secret has been delivered and verified.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from neon_keys._exceptions import NeonError, NotFoundError
from neon_keys._models import KeyKind

from ._errors import CliError, ExitCode, describe, exit_code_for, one_line
from ._output import key_label, key_record
from ._sinks import Sink, deliver_or_show

if TYPE_CHECKING:
    from neon_keys._client import NeonKeys
    from neon_keys._models import APIKey


@dataclass
class Rotation:
    """What a rotation has done so far. Strictly private."""

    key_id: int
    org_id: str | None
    sink: Sink
    old: APIKey | None = None
    new: APIKey | None = None
    delivered: bool = False
    verified: bool = False
    old_revoked: bool = False
    error: str | None = None

    def record(self) -> dict[str, Any]:
        """The rotation as JSON (no secret)."""
        return {
            "old": key_record(self.old) if self.old is not None else None,
            "new": key_record(self.new) if self.new is not None else None,
            "secret_delivered_to": self.sink.target if self.delivered else None,
            "verified": self.verified,
            "old_revoked": self.old_revoked,
            "error": self.error,
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


class RotationError(CliError):
    """A rotation stopped; the message says what exists now."""

    def __init__(self, rotation: Rotation, message: str, exit_code: int) -> None:
        rotation.error = message
        self.rotation = rotation
        super().__init__(message, exit_code)


def rotate(
    neon: NeonKeys,
    rotation: Rotation,
    *,
    new_name: str | None,
    remember: Callable[[str], None],
) -> Rotation:
    """Carry out ``rotation`` (see the module docstring); raises ``RotationError``.

    ``remember`` is called with the new secret before it is used, so that error messages
    can be scrubbed of it.
    """
    keys: Any = neon.org(rotation.org_id).keys if rotation.org_id else neon.personal_keys

    def explain(err: NeonError) -> str:
        return describe(err, api_host=neon.base_url)

    key_id = rotation.key_id
    scope = f"organization {rotation.org_id}" if rotation.org_id else "your personal keys"

    try:
        listing = keys.list()
    except NeonError as err:
        raise RotationError(
            rotation,
            f"could not list keys to find key {key_id}: {explain(err)}; nothing changed",
            exit_code_for(err),
        ) from err
    old = next((key for key in listing if key.id == key_id), None)
    if old is None:
        hint = "" if rotation.org_id else " (organization keys need --org)"
        raise RotationError(
            rotation, f"key {key_id} not found in {scope}{hint}; nothing changed", ExitCode.FAILURE
        )
    rotation.old = old
    kept = f"old key {key_id} NOT revoked"

    project_id = getattr(old, "project_id", None)
    try:
        if rotation.org_id:
            new = keys.create(new_name or old.name, project_id=project_id)
        else:
            new = keys.create(new_name or old.name)
    except NeonError as err:
        raise RotationError(
            rotation,
            f"could not create the replacement of key {key_id}: {explain(err)}; {kept}",
            exit_code_for(err),
        ) from err
    rotation.new = new
    assert new.secret is not None
    remember(new.secret.reveal())
    created = f"new {key_label(new)} created"

    failure = deliver_or_show(
        rotation.sink,
        new.secret.reveal(),
        key=key_label(new),
        revoke=rotation.revoke_command(new.id),
    )
    if failure is not None:
        raise RotationError(
            rotation,
            f"{created} but its secret could not be delivered to {rotation.sink.target} "
            f"({failure}); it was shown above, once; {kept}",
            ExitCode.FAILURE,
        )
    rotation.delivered = True
    done = f"{created} and its secret {rotation.sink.done}"

    try:
        auth = neon.with_options(api_key=new.secret).whoami()
    except NeonError as err:
        raise RotationError(
            rotation,
            f"{done}, but it failed verification ({one_line(err)}); {kept}",
            ExitCode.FAILURE,
        ) from err
    expected = KeyKind.PERSONAL if new.kind is KeyKind.PERSONAL else KeyKind.ORG
    if auth.key_kind is not expected:
        raise RotationError(
            rotation,
            f"{done}, but it failed verification (it authenticates as {auth.auth_method!r}, "
            f"not as a {expected.value} key); {kept}",
            ExitCode.FAILURE,
        )
    rotation.verified = True

    try:
        keys.revoke(key_id)
    except NotFoundError:
        pass  # Revoked meanwhile by someone else: the old key is gone, as wanted.
    except NeonError as err:
        raise RotationError(
            rotation,
            f"{done} and verified, but revoking old key {key_id} failed ({explain(err)}); "
            f"revoke it with: {rotation.revoke_command(key_id)}",
            exit_code_for(err),
        ) from err
    rotation.old_revoked = True
    return rotation
