"""What to say when a signal stops a create: the key may exist, and how to find or revoke it.

The library does the work (``neon_keys.interrupted_create``): a create interrupted after its
request left looks for the key it may have made, within a bound (a second Ctrl-C skips the
search), and the interrupting exception carries the result.
"""

from __future__ import annotations

from collections.abc import Collection

from neon_keys import interrupted_create

from ._output import clean, key_label, list_command, revoke_command


def interrupted_create_report(
    interrupt: BaseException, *, name: str, org_id: str | None, known: Collection[int] = ()
) -> str:
    """What exists after a signal stopped the create of a key named ``name``.

    ``interrupt`` is the exception that stopped ``create``; ``org_id`` is the scope's
    organization (None for personal keys), for the commands to suggest; ``known`` are ids
    of keys that existed before the create (a rotation's old key, which shares the name):
    never candidates.
    """
    quoted = f'"{clean(name)}"'
    found = interrupted_create(interrupt)
    if found is None or not found.request_sent:
        return f"the create of key {quoted} was stopped before it was sent; no key was created"
    if found.created is not None and found.created.id not in known:
        made = found.created
        return (
            f"the create of key {quoted} was sent and Neon made {key_label(made)}, but the "
            f"command stopped before its secret was delivered: revoke it with "
            f"{revoke_command([made.id], org_id)}"
        )
    sent = f"the create of key {quoted} was sent and may have happened"
    if found.candidates is None:
        why = found.failure or "it was not looked for"
        return (
            f"{sent}; {why}: find it with "
            f"{list_command(name, org_id)} and revoke it with {revoke_command(['ID'], org_id)}"
        )
    candidates = [key for key in found.candidates if key.id not in known]
    if not candidates:
        return (
            f"{sent}, but no key of that name made since it was sent was found; "
            f"check with {list_command(name, org_id)}"
        )
    ids = [key.id for key in candidates]
    labels = ", ".join(key_label(key) for key in candidates)
    its, it = ("its", "it") if len(ids) == 1 else ("their", "them")
    return (
        f"{sent}: found {labels}, made since it was sent; {its} secret is lost: "
        f"revoke {it} with {revoke_command(ids, org_id)}"
    )
