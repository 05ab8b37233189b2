"""A warm ``neon-keys``: each command a forked process of an interpreter that has imported it.

The examples test runs hundreds of ``neon-keys`` commands through a real shell. Started
fresh, each would spend about 0.4 s of CPU importing click, httpx and the library. Here one
process imports everything once and serves a Unix socket; the ``neon-keys`` on the shell's
PATH is a small client (``SHIM``) that sends its arguments, working folder, environment and
its own stdin, stdout and stderr (the file descriptors themselves), and exits with the code
that comes back. The command runs in a child forked for it, with those descriptors as 0, 1
and 2, so it writes to the very pipe or file the shell gave it, in the order a terminal
would show, and reads the stdin the shell gave it: what the page shows is what a reader's
``neon-keys`` prints.

Run as ``python cli_forkserver.py SOCKET``; it serves until terminated.
"""

from __future__ import annotations

import io
import json
import os
import signal
import socket
import sys
import time

MAX_MESSAGE = 1 << 20

#: The client: the ``neon-keys`` file on the shell's PATH (``{python}`` and ``{socket}`` are
#: filled in). ``-IS``: no site, no environment, so it starts in milliseconds.
SHIM = """#!{python} -IS
import json, os, signal, socket, sys
conn = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
conn.connect({socket!r})
request = {{"argv": sys.argv[1:], "cwd": os.getcwd(), "env": dict(os.environ)}}
socket.send_fds(conn, [json.dumps(request).encode()], [0, 1, 2])
pid = json.loads(conn.recv(4096))["pid"]
for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
    signal.signal(sig, lambda signum, frame: os.kill(pid, signum))
reply = conn.recv(4096)
sys.exit(json.loads(reply)["code"] if reply else 1)
"""


def preload() -> None:
    """Import what any command would, so that a forked child starts warm."""
    import neon_keys
    import neon_keys.cli
    import neon_keys.testing

    for package in (neon_keys, neon_keys.testing):
        for name in package.__all__:
            getattr(package, name)
    package_dir = os.path.dirname(neon_keys.cli.__file__)
    for entry in sorted(os.listdir(package_dir)):
        if entry.endswith(".py") and entry.startswith("_") and entry != "__main__.py":
            __import__(f"neon_keys.cli.{entry[:-3]}")
    import uvicorn  # noqa: F401

    _warm_up()


def _warm_up() -> None:
    """Run a few commands once against a throw-away emulator: what they load on first use
    (the HTTP stack's lazy imports, compiled patterns) is then loaded in every child.

    The emulator's thread is stopped before any fork, so no child inherits a thread.
    """
    import tempfile

    from neon_keys.cli import cli
    from neon_keys.testing import EmulatorServer, World

    saved = dict(os.environ), sys.stdout, sys.stderr, os.getcwd()
    with EmulatorServer(World.seeded()) as server, tempfile.TemporaryDirectory() as folder:
        os.environ.update(NEON_API_HOST=server.base_url, NEON_API_KEY=server.api_key)
        os.chdir(folder)
        sys.stdout = sys.stderr = io.StringIO()
        try:
            for args in (
                ["whoami"],
                ["orgs"],
                ["create", "warm", "--save", "warm.token"],
                ["-o", "json", "list", "--org", server.org_id],
                ["rotate", "100003", "--save", "warm2.token"],
                ["audit"],
                ["revoke", "100004", "424242", "--yes"],
            ):
                try:
                    cli.main(args, prog_name="neon-keys", standalone_mode=False)
                except Exception:  # noqa: S112 - a failing warm-up only costs speed
                    continue
        finally:
            os.environ.clear()
            os.environ.update(saved[0])
            sys.stdout, sys.stderr = saved[1], saved[2]
            os.chdir(saved[3])


def run_command(conn: socket.socket, request: dict[str, object], fds: list[int]) -> None:
    """In the forked child: become the command, run it, report its exit code, exit."""
    for sig in (signal.SIGCHLD, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # as in any fresh interpreter
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
        os.close(fd)
    env = request["env"]
    assert isinstance(env, dict)
    os.environ.clear()
    os.environ.update(env)
    time.tzset()
    cwd = request["cwd"]
    assert isinstance(cwd, str)
    os.chdir(cwd)
    argv = request["argv"]
    assert isinstance(argv, list)
    sys.argv = ["neon-keys", *argv]
    sys.stdin = _text_stream(0, "r")
    sys.stdout = _text_stream(1, "w")
    sys.stderr = _text_stream(2, "w")
    conn.send(json.dumps({"pid": os.getpid()}).encode())

    from neon_keys.cli import main

    code = 0
    try:
        main()
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
        if isinstance(exit_.code, str):
            print(exit_.code, file=sys.stderr)
    except BaseException:  # what an uncaught exception does to a fresh interpreter
        import traceback

        traceback.print_exc()
        code = 1
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except OSError:
            code = code or 120
    try:
        conn.send(json.dumps({"code": code}).encode())
    finally:
        os._exit(code)


def _text_stream(fd: int, mode: str) -> io.TextIOWrapper:
    """A standard stream on ``fd``, buffered as Python buffers its own at start-up."""
    tty = os.isatty(fd)
    raw = io.FileIO(fd, mode, closefd=False)
    buffered: io.BufferedIOBase
    buffered = io.BufferedReader(raw) if mode == "r" else io.BufferedWriter(raw)
    return io.TextIOWrapper(
        buffered,
        encoding="utf-8",
        errors="strict" if fd == 0 else ("backslashreplace" if fd == 2 else "strict"),
        line_buffering=tty or fd == 2,
        write_through=fd == 2,
    )


def serve(path: str) -> None:
    """Accept commands on the Unix socket ``path`` until terminated."""
    preload()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    listener.bind(path)
    listener.listen(16)
    print("ready", flush=True)
    while True:
        conn, _ = listener.accept()
        data, fds, _flags, _addr = socket.recv_fds(conn, MAX_MESSAGE, 3)
        request = json.loads(data)
        pid = os.fork()
        if pid == 0:
            listener.close()
            run_command(conn, request, fds)
        for fd in fds:
            os.close(fd)
        conn.close()
        _reap()


def _reap() -> None:
    """Collect the children that have exited, so none lingers as a zombie."""
    while True:
        try:
            pid, _status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


if __name__ == "__main__":
    serve(sys.argv[1])
