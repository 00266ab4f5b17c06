"""A fork server for sandboxed workers: their start-up (the interpreter, NumPy, the worker's
modules: ~0.18 CPU-s, docs/benchmarks.md) paid once per grading process instead of once per
worker.

Each worker still gets a sandbox of its own, set up by bubblewrap exactly as without the
server (:func:`.sandbox._bwrap_argv`), but what bubblewrap runs in it is a placeholder, a
shell that waits. The server, a process that imported what a worker imports and nothing else,
forks; the child joins the placeholder's namespaces (IPC, UTS, network, cgroup, PID, mount:
``setns(2)``), takes its root folder and its capabilities, and forks the worker, which is
thereby inside that sandbox: it sees the sandbox's files and processes only, and dies with
it. The child stays outside as the worker's parent, waits for it and hands its end (an exit
code or a signal) to the placeholder, which ends the same way: the grader sees bubblewrap end
as it would have ended with the worker inside.

What the server holds, every worker inherits, so it holds nothing a worker must not see: it
runs with the worker's scrubbed environment, imports only the worker's modules (the grader
checks their files against what each sandbox shows, :meth:`ForkServer.shows`), and its
children close every descriptor but the worker's. Used only where the grader runs as root
without a user namespace (CI containers, grading machines); elsewhere, and on a CUDA device,
workers start as before. docs/security.md says what this changes.
"""

from __future__ import annotations

import ctypes
import fcntl
import importlib
import json
import os
import select
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from nlpdojo.startup import imports_without_collection

#: the namespaces a worker joins, the mount namespace last (it changes the root folder)
NAMESPACES = ("ipc", "uts", "net", "cgroup", "pid", "mnt")
#: what bubblewrap runs in a sandbox whose worker the server forks: it says it is up
#: (:data:`READY`, on its output, the worker's), then waits for the worker's end (``exit N``
#: or ``signal N``, on its input) and ends the same way
READY = b"nlpdojo: the sandbox is up\n"
PLACEHOLDER = ('ulimit -c 0; printf "%s" "' + READY.decode().strip() + '\n"; read -r how code; '
               'if [ "$how" = signal ]; then kill -"$code" $$; fi; exit "${code:-1}"')
#: seconds a request to the server, or a placeholder's start, may take
DEADLINE_S = 20.0
MAX_FDS = 32
#: past every descriptor number (close_range(2)'s bound is an unsigned int)
ALL_FDS = 2**31 - 1

_PR_CAPBSET_DROP = 24
_PR_CAP_AMBIENT, _PR_CAP_AMBIENT_CLEAR_ALL = 47, 4
_CAP_VERSION_3 = 0x20080522


def start_time(pid: int) -> int | None:
    """When ``pid`` started (clock ticks after boot, ``/proc/PID/stat`` field 22): with its pid,
    what names one process for good (a pid alone may be another's once it has ended); None
    where there is no such process."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[19])
    except (OSError, ValueError, IndexError):
        return None


class ForkServerError(Exception):
    """The server cannot start this worker (the grader starts it the usual way)."""


# -- the grader's side ---------------------------------------------------------------------

class ForkServer:
    """The grader's handle on one server process (its environment is the workers')."""

    def __init__(self, python: str, env: dict[str, str]) -> None:
        # the environment a worker started by bubblewrap gets: ``--chdir`` sets PWD
        self.env = {**env, "PWD": env.get("HOME", "/")}
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.sock = ours
        self.lock = threading.Lock()
        self.modules: tuple[str, ...] | None = None
        self._shows: dict[tuple[tuple[str, ...], ...], bool] = {}
        self.broken = False
        try:
            self.proc = subprocess.Popen(
                [python, "-P", "-m", __name__, str(theirs.fileno())], env=self.env, cwd="/",
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                start_new_session=True, pass_fds=(theirs.fileno(),))
        finally:
            theirs.close()

    def wait(self, timeout_s: float) -> None:
        """Wait until it has imported the worker's modules; ForkServerError where it has not
        within ``timeout_s``."""
        if not self.ready(timeout_s):
            raise ForkServerError("the fork server did not start")

    def ready(self, timeout_s: float = 0.0) -> bool:
        """Whether it has imported the worker's modules (waiting up to ``timeout_s``)."""
        if self.modules is not None or self.broken:
            return self.modules is not None
        with self.lock:
            if self.modules is None and not self.broken and select.select(
                    [self.sock], [], [], timeout_s)[0]:
                try:
                    said = json.loads(self.sock.recv(1 << 20) or b"{}")
                    self.modules = tuple(str(m) for m in said["modules"])
                except (OSError, ValueError, KeyError, TypeError):
                    self.close()
        return self.modules is not None

    def shows(self, hidden: list[Path], shown_files: frozenset[str],
              packages: tuple[str, ...], bound: tuple[str, ...]) -> bool:
        """Whether every module file it has loaded is one the sandbox shows: inside a folder
        it binds (``bound``), none inside a hidden folder, and of the grader's package trees
        (``packages``) only the files it shows (``shown_files``, which come with
        ``packages``). Kept per question asked."""
        names = tuple(str(h) for h in hidden)
        key = (names, packages, bound)
        verdict = self._shows.get(key)
        if verdict is None:
            hidden_inside = tuple(f"{h}{os.sep}" for h in names)
            package_inside = tuple(f"{p}{os.sep}" for p in packages)
            bound_inside = tuple(f"{b.rstrip(os.sep)}{os.sep}" for b in bound)

            def shown(name: str) -> bool:
                if name in names or name.startswith(hidden_inside):
                    return False
                if name.startswith(package_inside):
                    return name in shown_files
                return name.startswith(bound_inside)

            verdict = self.modules is not None and all(map(shown, self.modules))
            self._shows[key] = verdict
        return verdict

    def spawn(self, placeholder: tuple[int, int], fds: list[tuple[int, int]],
              argv: list[str]) -> tuple[int, int]:
        """Fork a worker into the sandbox of the ``placeholder`` (its pid and start time,
        :func:`wait_for_placeholder`): ``fds`` are (descriptor here, its number in the
        worker) pairs, the first the placeholder's status pipe (the child's); returns the
        child's pid and start time (the worker's parent, whose CPU time counts the
        worker's)."""
        with self.lock:
            if self.broken:
                raise ForkServerError("the fork server stopped")
            request = json.dumps({"pid": placeholder[0], "start": placeholder[1],
                                  "targets": [t for _, t in fds], "argv": argv}).encode()
            try:
                socket.send_fds(self.sock, [request], [f for f, _ in fds])
                if not select.select([self.sock], [], [], DEADLINE_S)[0]:
                    raise ForkServerError("the fork server did not answer")
                said = self.sock.recv(1 << 16)
                if not said:
                    raise ForkServerError("the fork server ended")
                reply = json.loads(said)
            except (OSError, ValueError, ForkServerError) as exc:
                self.close()
                raise ForkServerError(f"the fork server failed: {exc}") from exc
        if not isinstance(reply, dict) or not isinstance(reply.get("pid"), int) \
                or not isinstance(reply.get("start"), int):
            raise ForkServerError(f"the fork server refused: {reply!r:.300}")
        return int(reply["pid"]), int(reply["start"])

    def close(self) -> None:
        self.broken = True
        try:
            self.sock.close()
        except OSError:
            pass
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


# -- the server's side ---------------------------------------------------------------------

def serve(fd: int) -> None:
    """Import what a worker imports, say which module files that loaded, then fork a worker
    per request until the grader closes the socket."""
    with imports_without_collection():  # and frozen: no fork's collection traverses them
        import numpy  # noqa: F401 - the point of the server: imported once

        from nlpdojo_autograder.runtime import worker  # noqa: F401

    sock = socket.socket(fileno=fd)
    modules = sorted({str(Path(m.__file__).resolve()) for m in list(sys.modules.values())
                      if isinstance(getattr(m, "__file__", None), str)})
    sock.send(json.dumps({"modules": modules}).encode())
    while True:
        _reap()
        try:
            message, fds, _, _ = socket.recv_fds(sock, 1 << 16, MAX_FDS)
        except OSError:
            return
        if not message:
            return  # the grader has gone
        try:
            request = json.loads(message)
            pid = _fork_worker((int(request["pid"]), int(request["start"])),
                               list(zip(fds, request["targets"], strict=True)),
                               [str(a) for a in request["argv"]], sock.fileno())
            # read before anything here can reap it: the child and this time name it for good
            answer: dict[str, Any] = {"pid": pid, "start": start_time(pid)}
        except Exception as exc:  # noqa: BLE001 - said to the grader, which starts it itself
            answer = {"error": f"{type(exc).__name__}: {exc}"}
        finally:
            for f in fds:
                os.close(f)
        sock.send(json.dumps(answer).encode())


def _reap() -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _fork_worker(placeholder: tuple[int, int], fds: list[tuple[int, int]], argv: list[str],
                 server_fd: int) -> int:
    """Open the namespaces, root folder and capabilities of the ``placeholder`` (pid, start
    time), check it is still the process that started then, and fork the worker's parent
    (:func:`_parent_of_worker`); returns that child's pid."""
    proc = f"/proc/{placeholder[0]}"
    caps = _capabilities(f"{proc}/status")
    root = os.open(f"{proc}/root", os.O_RDONLY | os.O_DIRECTORY)
    spaces = []
    try:
        for name in NAMESPACES:
            if os.readlink(f"{proc}/ns/{name}") != os.readlink(f"/proc/self/ns/{name}"):
                spaces.append(os.open(f"{proc}/ns/{name}", os.O_RDONLY))
            elif name != "cgroup":  # (bubblewrap's --unshare-cgroup-try may not)
                raise ForkServerError(f"the placeholder shares the {name} namespace")
        # what was read and opened is the placeholder's, not another process's that took its
        # pid (a pid is not taken again while its process lives)
        if start_time(placeholder[0]) != placeholder[1]:
            raise ForkServerError("the placeholder has ended")
        child = os.fork()
        if child == 0:
            code = 127
            try:
                os.close(server_fd)
                code = _parent_of_worker(root, spaces, caps, fds, argv)
            except BaseException as exc:  # noqa: BLE001 - said on the worker's output
                _say(fds, f"the fork server could not start the worker: {exc!r}\n")
            finally:
                os._exit(code)
        return child
    finally:
        for f in (root, *spaces):
            os.close(f)


def _close_all_but(keep: set[int]) -> None:
    """Close every descriptor but ``keep`` (``os.closerange(a, b)`` with ``b <= a`` would
    close them all: close_range(2) takes an inclusive, unsigned upper bound)."""
    start = 0
    for fd in sorted(keep):
        if fd > start:
            os.closerange(start, fd)
        start = fd + 1
    os.closerange(start, ALL_FDS)


def _say(fds: list[tuple[int, int]], text: str) -> None:
    """Write ``text`` on the worker's output (the descriptor bound for its stderr)."""
    for fd, target in fds:
        if target == 2:
            try:
                os.write(fd, text.encode())
            except OSError:
                pass
            return


def _parent_of_worker(root: int, spaces: list[int], caps: dict[str, int],
                      fds: list[tuple[int, int]], argv: list[str]) -> int:
    """In the fork: join the sandbox, fork the worker, wait for it and tell the placeholder
    how it ended (the first of ``fds`` is the placeholder's status pipe)."""
    libc = ctypes.CDLL(None, use_errno=True)
    for space in spaces:
        if libc.setns(space, 0) != 0:
            raise OSError(ctypes.get_errno(), "setns")
    os.fchdir(root)
    os.chroot(".")
    status, *worker_fds = fds
    worker = os.fork()
    if worker == 0:
        code = 1
        try:
            os.close(status[0])
            code = _become_worker(libc, caps, worker_fds, argv)
        except BaseException as exc:  # noqa: BLE001 - said on the worker's output
            _say(worker_fds, f"the fork server could not start the worker: {exc!r}\n")
        finally:
            os._exit(code)
    _close_all_but({0, 1, 2, status[0]})
    # it only waits and writes from here on: no capability (it stays outside the sandbox's
    # PID namespace, where its worker cannot reach it)
    _set_capabilities(libc, dict.fromkeys(("CapInh", "CapPrm", "CapEff", "CapBnd"), 0))
    while True:
        try:
            _, how = os.waitpid(worker, 0)
            break
        except InterruptedError:
            continue
    end = (f"signal {os.WTERMSIG(how)}" if os.WIFSIGNALED(how) else
           f"exit {os.WEXITSTATUS(how)}")
    try:
        os.write(status[0], f"{end}\n".encode())
    except OSError:
        pass  # the sandbox was stopped (the worker with it)
    return 0


def _become_worker(libc: Any, caps: dict[str, int], fds: list[tuple[int, int]],
                   argv: list[str]) -> int:
    """In the worker: a session of its own, the descriptors at the numbers the grader gave,
    the placeholder's capabilities, fresh random state; then the worker's own ``main``."""
    os.setsid()
    os.chdir(argv[2])  # (bubblewrap's --chdir)
    above = max(1024, *(target + 1 for _, target in fds))  # (no copy lands on a target)
    high = [(fcntl.fcntl(f, fcntl.F_DUPFD_CLOEXEC, above), target) for f, target in fds]
    for f, _ in fds:
        os.close(f)
    for f, target in high:
        os.dup2(f, target)
        os.close(f)
    null = os.open("/dev/null", os.O_RDWR)
    os.dup2(null, 0)
    os.close(null)
    _close_all_but({0, 1, 2, *(t for _, t in high)})
    _set_capabilities(libc, caps)
    # what the import system remembers of the folders the server imported from, listed on the
    # host: names of files the sandbox may not show (the grader's other modules)
    sys.path_importer_cache.clear()
    importlib.invalidate_caches()
    import numpy as np

    from nlpdojo_autograder.runtime import worker

    np.random.seed()  # the server's draw is every fork's: each worker a fresh one
    sys.argv = [worker.__file__, *argv]
    return worker.run_as_process(argv)


def _capabilities(status_file: str) -> dict[str, int]:
    caps = {}
    with open(status_file) as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("CapInh", "CapPrm", "CapEff", "CapBnd"):
                caps[key] = int(value.strip(), 16)
    return caps


def _set_capabilities(libc: Any, caps: dict[str, int]) -> None:
    """The placeholder's capabilities (bounding, permitted, effective, inheritable; no
    ambient): what bubblewrap gave the process it started."""
    last = int(Path("/proc/sys/kernel/cap_last_cap").read_text())
    for cap in range(last + 1):
        if not caps["CapBnd"] >> cap & 1 and libc.prctl(_PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "PR_CAPBSET_DROP")
    libc.prctl(_PR_CAP_AMBIENT, _PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)

    class Header(ctypes.Structure):
        _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

    class Data(ctypes.Structure):
        _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                    ("inheritable", ctypes.c_uint32)]

    data = (Data * 2)()
    for i in range(2):
        data[i].effective = caps["CapEff"] >> (32 * i) & 0xFFFFFFFF
        data[i].permitted = caps["CapPrm"] >> (32 * i) & 0xFFFFFFFF
        data[i].inheritable = caps["CapInh"] >> (32 * i) & 0xFFFFFFFF
    if libc.capset(ctypes.byref(Header(_CAP_VERSION_3, 0)), data) != 0:
        raise OSError(ctypes.get_errno(), "capset")


def wait_for_placeholder(info: int, output: int, deadline: float) -> tuple[int, int]:
    """The placeholder's pid and start time (:func:`start_time`), once it has started in the
    finished sandbox (:data:`READY`, the first bytes of its ``output``): the child of
    bubblewrap's child (``--info-fd``)."""
    said = b""
    pid = None
    while pid is None:
        said += _read_before(info, deadline, 4096)
        try:
            pid = int(json.loads(said)["child-pid"])
        except ValueError:  # not all of it yet
            continue
        except (KeyError, TypeError) as exc:
            raise ForkServerError(f"bubblewrap said no child pid: {said[:200]!r}") from exc
    up = b""
    while len(up) < len(READY):
        up += _read_before(output, deadline, len(READY) - len(up))
        if not READY.startswith(up):
            raise ForkServerError(f"the sandbox did not start: {up[:300]!r}")
    # bubblewrap's child is its own init in the new PID namespace (capabilities dropped);
    # the placeholder is that init's one child
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            children = [int(c) for c in f.read().split()]
    except (OSError, ValueError) as exc:
        raise ForkServerError(f"the sandbox's processes cannot be read: {exc}") from exc
    if len(children) != 1:
        raise ForkServerError(f"the sandbox's init has {len(children)} children, not one")
    started = start_time(children[0])
    if started is None:
        raise ForkServerError("the sandbox's placeholder has ended")
    return children[0], started


def _read_before(fd: int, deadline: float, size: int) -> bytes:
    left = deadline - time.monotonic()
    if left <= 0 or not select.select([fd], [], [], left)[0]:
        raise ForkServerError("the sandbox did not start in time")
    chunk = os.read(fd, size)
    if not chunk:
        raise ForkServerError("the sandbox ended before its placeholder started")
    return chunk

if __name__ == "__main__":
    serve(int(sys.argv[1]))
