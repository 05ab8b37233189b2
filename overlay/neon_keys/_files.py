"""Writing a secret's file: atomically, never readable by others, never half-written.

Also the one honest test of a folder, before anything is created: making a file there.
"""

from __future__ import annotations

import contextlib
import os
import tempfile

PRIVATE_MODE = 0o600
"""The mode of a file that holds a secret (and of every temporary file on the way)."""


class FolderRefused(OSError):
    """No file can be created in the folder: ``reason`` says why, for a message."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def folder_of(path: str) -> str:
    """The folder a file at ``path`` is created in."""
    return os.path.dirname(os.path.abspath(path))


def probe_folder(directory: str) -> None:
    """Raise ``FolderRefused`` if no file can be created in ``directory``.

    It creates and removes an empty temporary file there: the one test that no permission
    bit, read-only mount, quota or security module can fool.
    """
    try:
        fd, probe = tempfile.mkstemp(dir=directory, prefix=".neon-keys-", suffix=".probe")
    except FileNotFoundError:
        raise FolderRefused(f"folder {directory} does not exist") from None
    except NotADirectoryError:
        raise FolderRefused(f"{directory} is not a folder") from None
    except OSError as err:
        reason = err.strerror or str(err)
        raise FolderRefused(f"cannot write in folder {directory}: {reason}") from None
    os.close(fd)
    with contextlib.suppress(FileNotFoundError):
        os.unlink(probe)


def write_private(
    path: str,
    text: str,
    *,
    replace: bool,
    mode: int = PRIVATE_MODE,
    owner: tuple[int, int] | None = None,
) -> None:
    """Write ``text`` to ``path`` atomically, through a 0600 temporary file in the same folder.

    The file never exists with looser permissions than ``mode``, and never half-written;
    ``owner`` (uid, gid), when given, is given to it before it takes the name. Without
    ``replace`` an existing ``path`` is never overwritten, even one that appeared after
    ``check``: ``FileExistsError``.
    """
    directory = os.path.dirname(os.path.abspath(path))
    fd, temporary = tempfile.mkstemp(dir=directory, prefix=".neon-keys-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
            if owner is not None and owner != (os.geteuid(), os.getegid()):
                os.fchown(out.fileno(), *owner)
            if mode != PRIVATE_MODE:
                os.fchmod(out.fileno(), mode)
            out.write(text)
            out.flush()  # pragma: no mutate (durable on a crash only)
            os.fsync(out.fileno())  # pragma: no mutate (durable on a crash only)
        if replace:
            os.replace(temporary, path)
        else:
            _link_new(temporary, path)
        _sync_directory(directory)  # pragma: no mutate (durable on a crash only)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)


def write_all(fd: int, data: bytes) -> None:
    """``os.write`` until every byte is written (a short write is not an error)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _sync_directory(directory: str) -> None:
    """Make a rename in ``directory`` durable, where the system allows it (best effort)."""
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)  # pragma: no mutate (durable on a crash only)
        finally:
            os.close(fd)


def _link_new(temporary: str, path: str) -> None:
    """Give ``temporary`` the name ``path``, failing if ``path`` exists."""
    try:
        os.link(temporary, path)
    except FileExistsError:
        raise
    except OSError:
        # No hard links on this filesystem (some network or FUSE mounts): check, then rename.
        if os.path.lexists(path):
            raise FileExistsError(f"{path} already exists") from None
        os.replace(temporary, path)
