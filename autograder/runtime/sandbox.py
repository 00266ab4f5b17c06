"""Starting the worker that runs a student's code, inside an OS sandbox where Linux offers one.

Isolation levels (recorded in every result):

``sandbox``
    bubblewrap (``bwrap``): new PID, network, IPC and UTS namespaces (nothing survives the
    worker, no network, no signal can reach the grader or another submission), a root file
    system made of ``/usr``, the few files of ``/etc`` a Python process needs
    (:data:`ETC_SHOWN`), the interpreter, the installed packages (the reference solutions and the
    shipped fixtures masked by empty folders), a read-only copy of the submission's topic
    folder and a private scratch folder; ``$HOME``, the grader's files, other submissions and
    the data cache are not there. The environment is scrubbed. Run as root, the worker drops
    to a user id of its own before any student code runs, so a process limit holds.
``process``
    Where bubblewrap is missing or refused (macOS, a container without namespaces): a child
    process in its own session with the same limits and scrubbed environment, but it shares
    the file system and PID space (docs/security.md lists what that leaves open).

``NLPDOJO_SANDBOX=off`` forces ``process`` (debugging); ``grade --require-sandbox`` refuses to
grade without ``sandbox``.
"""

from __future__ import annotations

import atexit
import fcntl
import functools
import importlib.util
import os
import shutil
import site
import subprocess
import sys
import sysconfig
import threading
import time
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from nlpdojo.errors import NlpdojoError
from nlpdojo.plugins import bringing_plugins
from nlpdojo_autograder.runtime import forkserver
from nlpdojo_autograder.runtime.shown import staged
from nlpdojo_autograder.runtime.subject import GRADER_PACKAGE, PACK_API_MODULES, WORKER_MODULES

SANDBOX, PROCESS = "sandbox", "process"
ENV = "NLPDOJO_SANDBOX"
#: where things are inside the sandbox
CODE_DIR, SCRATCH_DIR = "/nlpdojo/code", "/nlpdojo/scratch"
#: what the worker may write in all, in the sandbox (a tmpfs: it counts as memory, not disk)
SCRATCH_BYTES = 512 * 2**20
#: the sandbox's /tmp (TMPDIR points at the scratch folder; this is for code that ignores it)
TMP_BYTES = 64 * 2**20
#: a folder hidden by an empty tmpfs (the reference, the fixtures) stays (nearly) empty
EMPTY_BYTES = 64 * 2**10
#: the system's folders the sandbox shows read-only (or as the links they are)
SYSTEM_FOLDERS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
#: the first of the user ids a root grader's sandboxes run as (one per grading process)
UID_BASE = 61_000
#: how a worker starts: ``-P`` keeps its working folder (the scratch folder it may write) off
#: ``sys.path``, so no module written at run time is importable (docs/security.md)
WORKER_COMMAND = (sys.executable, "-P", "-m", "nlpdojo_autograder.runtime.worker_main")
_PASSED_ENV = ("NLPDOJO_PLUGINS", "CUDA_VISIBLE_DEVICES", "NLPDOJO_TORCH_THREADS",
               "OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


class SandboxUnavailable(NlpdojoError):
    """``--require-sandbox`` was given and no OS sandbox can be made here."""


@functools.lru_cache(maxsize=1)
def probe() -> str | None:
    """``None`` when bubblewrap works here, else why not (one line)."""
    if os.environ.get(ENV, "").lower() in ("0", "off", "no", "false"):
        return f"{ENV}={os.environ[ENV]} turns the sandbox off"
    if not sys.platform.startswith("linux"):
        return f"no OS sandbox on {sys.platform} (bubblewrap is Linux-only)"
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return ("bubblewrap is not installed (Debian/Ubuntu: `apt-get install bubblewrap`; "
                "`make test` installs it where it runs as root)")
    argv = [bwrap, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc",
            "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts",
            "--die-with-parent"]
    if os.getuid() != 0:
        argv.append("--unshare-user")
    try:
        done = subprocess.run([*argv, "true"], capture_output=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bubblewrap could not run: {exc}"
    if done.returncode != 0:
        why = done.stderr.decode(errors="replace").strip().splitlines()
        return f"bubblewrap cannot create namespaces here: {why[-1] if why else done.returncode}"
    return None


def level(require: bool = False) -> str:
    why = probe()
    if why is None:
        return SANDBOX
    if require:
        raise SandboxUnavailable(f"--require-sandbox: {why}")
    return PROCESS


@dataclass
class Launched:
    proc: subprocess.Popen
    to_worker: int
    from_worker: int
    #: the folders as the worker sees them
    code_dir: str
    scratch_dir: str
    uid: int | None
    processes: int | None
    #: the worker's output (stdout and stderr together)
    output: Any = None
    #: a fork server's child, the worker's parent (its CPU time counts the worker's): None
    #: where bubblewrap's process is the worker's ancestor; ``parent_start``: its start time
    #: (``forkserver.start_time``: its pid is another's once it has ended)
    parent: int | None = None
    parent_start: int | None = None


#: what the sandbox shows of ``/etc``: the dynamic loader's cache and configuration (a CUDA
#: driver's libraries are found through it), the time zone, the user and group names, the
#: alternatives' links into ``/usr``, MIME types and fonts. Not the rest: a grading machine's
#: ``/etc`` is world-readable and holds what a CI job must keep from the code it grades
#: (``pip.conf`` and ``npmrc`` with a private index's token, ``environment``, the host's keys)
ETC_SHOWN = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "timezone", "passwd",
             "group", "nsswitch.conf", "alternatives", "mime.types", "fonts")


#: the capacity asked for the channel's pipes: Linux's default of 64 KiB splits an array of a
#: run at scale (a megabyte) into sixteen writes, each waking the reader
PIPE_BYTES = 1 << 20


def pipe() -> tuple[int, int]:
    """A pipe of :data:`PIPE_BYTES` where the system allows it (``fs.pipe-max-size``), else
    of its default capacity."""
    read, write = os.pipe()
    try:
        fcntl.fcntl(write, fcntl.F_SETPIPE_SZ, PIPE_BYTES)
    except (OSError, AttributeError):  # over the limit, or not Linux: the default will do
        pass
    return read, write


def launch(isolation: str, *, code: Path | None, scratch: Path, device: str | None,
           hidden: list[Path], scratch_bytes: int = SCRATCH_BYTES,
           reference: tuple[Path, ...] = (), extra_fds: tuple[int, ...] = ()) -> Launched:
    """Start ``python -m nlpdojo_autograder.runtime.worker_main`` on the code in ``code`` (a
    private copy of the student's topic folder) with ``scratch`` as its only writable folder.

    ``hidden``: folders that must not be visible (the reference solutions, the fixtures).
    In the sandbox the worker's scratch folder is a tmpfs of ``scratch_bytes`` (the total it
    may write: a full disk is the worker's ``ENOSPC``, not the grading machine's), and of the
    host's ``scratch`` folder it sees two files: ``stack.txt`` (written, for the grader's
    time-out message) and matplotlib's font list (read only).

    The reference process (it runs the swapped-in reference for a student's call-backs) has
    no ``code``: its ``reference`` folders, the solutions, are shown read-only at their own
    paths instead of being hidden, and nothing of the student's.

    ``extra_fds``: more descriptors the process keeps, at the same numbers (the ends of the
    pipes between a student's worker and its reference process: :class:`~.remote.RemoteSubject`).
    """
    to_r, to_w = pipe()
    from_r, from_w = pipe()
    uid = processes = None
    env = _environment(scratch if isolation == PROCESS else Path(SCRATCH_DIR))
    _seed_font_cache(scratch / ".mpl")
    if isolation == SANDBOX:
        if os.getuid() == 0:
            uid = UID_BASE + os.getpid() % 4000
            processes = 256  # a fork bomb stops here; threads count too
            for path in [scratch, *scratch.rglob("*")]:
                os.chown(path, uid, uid)
        (scratch / "stack.txt").touch(mode=0o600)
        if uid is not None:
            os.chown(scratch / "stack.txt", uid, uid)
        sandbox = _bwrap_argv(code, scratch, env, device, hidden, scratch_bytes, reference)
        server = _fork_server(env, device, hidden)
        if server is not None:
            try:
                return _forked(server, sandbox, scratch, env, to_r, to_w, from_r, from_w,
                               extra_fds, code, uid, processes)
            except forkserver.ForkServerError:
                if os.environ.get(FORK_SERVER_ENV) == "always":
                    raise
                # started the usual way below
        argv = [*sandbox, *WORKER_COMMAND, str(to_r), str(from_w), SCRATCH_DIR]
        code_dir = CODE_DIR if code is not None else ""
        scratch_dir, popen_env = SCRATCH_DIR, {"PATH": env["PATH"]}
    else:
        argv = [*WORKER_COMMAND, str(to_r), str(from_w), str(scratch)]
        code_dir, scratch_dir, popen_env = str(code or ""), str(scratch), env
    try:
        proc = subprocess.Popen(argv, cwd=scratch, env=popen_env, stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                start_new_session=True, pass_fds=(to_r, from_w, *extra_fds))
    finally:
        os.close(to_r)
        os.close(from_w)
    return Launched(proc, to_w, from_r, code_dir, scratch_dir, uid, processes, proc.stdout)


#: the sandboxed start at which a process starts a fork server (:mod:`.forkserver`), to fork
#: the workers after it: a ``grade`` of one submission starts a worker and perhaps a reference
#: process (again after a time-out), for which the server's own start (~0.2 CPU-s) would not
#: pay; ``dojo verify`` and a test suite start hundreds
FORK_SERVER_AFTER = 3
#: ``off``: no fork server (every worker starts its own interpreter); ``always``: from the
#: first start, and a worker the server cannot start is an error (the tests' forked variants)
FORK_SERVER_ENV = "NLPDOJO_FORK_SERVER"
#: servers a process keeps at once (one per workers' environment: tests vary the plugins)
MAX_FORK_SERVERS = 2
_SERVERS: dict[tuple[int, tuple[tuple[str, str], ...]], forkserver.ForkServer] = {}
_SANDBOXED_STARTS: dict[tuple[int, tuple[tuple[str, str], ...]], int] = {}
_SERVERS_LOCK = threading.Lock()


def _fork_server(env: dict[str, str], device: str | None,
                 hidden: list[Path]) -> forkserver.ForkServer | None:
    """The fork server for workers of environment ``env``, where one is ready and every
    module it loaded is one this sandbox shows; None where workers start the usual way: not
    root (a user namespace: not done), a CUDA device (its driver is not forked), switched
    off, the process's first starts, a server still importing or broken."""
    mode = os.environ.get(FORK_SERVER_ENV, "")
    if mode == "off" or os.getuid() != 0 or (device or "cpu").startswith("cuda"):
        return None
    key = (os.getpid(), tuple(sorted(env.items())))  # a forked grader starts its own
    with _SERVERS_LOCK:
        for other in [k for k in _SERVERS if k[0] != key[0]]:  # a parent's: left alone
            del _SERVERS[other]
        server = _SERVERS.get(key)
        if server is not None and (server.broken or server.proc.poll() is not None):
            server.close()  # it died: another starts as the first did
            del _SERVERS[key]
            _SANDBOXED_STARTS.pop(key, None)
            server = None
        if server is None:
            _SANDBOXED_STARTS[key] = starts = _SANDBOXED_STARTS.get(key, 0) + 1
            if mode == "always" or starts >= FORK_SERVER_AFTER:
                while len(_SERVERS) >= MAX_FORK_SERVERS:  # the oldest goes
                    _SERVERS.pop(next(iter(_SERVERS))).close()
                _SERVERS[key] = server = forkserver.ForkServer(sys.executable, env)
            if mode != "always":
                return None
    if mode == "always":
        server.wait(forkserver.DEADLINE_S)
    if not server.ready():
        return None
    if not server.shows([p.resolve() for p in (*hidden, *hidden_in(_python_folders()))],
                        *_package_view(_grader_package()), _bound_roots(_python_folders())):
        if mode == "always":
            raise forkserver.ForkServerError("the fork server has loaded a module this "
                                             "sandbox does not show")
        return None
    return server


@functools.lru_cache(maxsize=4)
def _package_view(masked: tuple[tuple[Path, tuple[Path, ...]], ...]
                  ) -> tuple[frozenset[str], tuple[str, ...]]:
    """Of the grader's packages the sandbox shows in part (:func:`_grader_package`): the
    files it shows and the folders, resolved."""
    return (frozenset(str(f.resolve()) for _, files in masked for f in files),
            tuple(str(folder.resolve()) for folder, _ in masked))


@functools.lru_cache(maxsize=4)
def _bound_roots(python: tuple[Path, ...]) -> tuple[str, ...]:
    """The folders every sandbox binds that modules may come from (resolved): the system's
    (:func:`_bwrap_argv`) and Python's (:func:`_python_folders`)."""
    system = [Path(top) for top in SYSTEM_FOLDERS if Path(top).exists()]
    return tuple(sorted({str(p.resolve()) for p in (*system, *python)}))


def _close_fork_servers() -> None:
    with _SERVERS_LOCK:
        for key, server in list(_SERVERS.items()):
            if key[0] == os.getpid():
                server.close()
        _SERVERS.clear()


atexit.register(_close_fork_servers)


def _forked(server: forkserver.ForkServer, sandbox: list[str], scratch: Path,
            env: dict[str, str], to_r: int, to_w: int, from_r: int, from_w: int,
            extra_fds: tuple[int, ...], code: Path | None, uid: int | None,
            processes: int | None) -> Launched:
    """Start bubblewrap's sandbox with the placeholder in it and have ``server`` fork the
    worker into it (:mod:`.forkserver`); the worker's descriptors are at the numbers a worker
    started the usual way has. Raises ForkServerError (nothing left running) where it
    cannot."""
    info_r, info_w = os.pipe()
    status_r, status_w = os.pipe()
    out_r, out_w = os.pipe()
    try:
        proc = subprocess.Popen([*sandbox, "--info-fd", str(info_w), "/bin/sh", "-c",
                                 forkserver.PLACEHOLDER], cwd=scratch, env={"PATH": env["PATH"]},
                                stdin=status_r, stdout=out_w, stderr=out_w,
                                start_new_session=True, pass_fds=(info_w,))
    except OSError as exc:
        for fd in (info_r, info_w, status_r, status_w, out_r, out_w):
            os.close(fd)
        raise forkserver.ForkServerError(str(exc)) from exc
    os.close(info_w)
    os.close(status_r)
    try:
        placeholder = forkserver.wait_for_placeholder(info_r, out_r, time.monotonic()
                                                      + forkserver.DEADLINE_S)
        parent, parent_start = server.spawn(
            placeholder, [(status_w, -1), (to_r, to_r), (from_w, from_w),
                          *((fd, fd) for fd in extra_fds), (out_w, 1), (out_w, 2)],
            [str(to_r), str(from_w), SCRATCH_DIR])
    except BaseException:
        try:
            os.killpg(proc.pid, 9)
        except OSError:
            pass
        proc.wait()
        for fd in (status_w, out_r, out_w):
            os.close(fd)
        raise
    finally:
        os.close(info_r)
    os.close(status_w)
    os.close(out_w)
    os.close(to_r)
    os.close(from_w)
    return Launched(proc, to_w, from_r, CODE_DIR if code is not None else "", SCRATCH_DIR,
                    uid, processes, os.fdopen(out_r, "rb"), parent, parent_start)


def _seed_font_cache(folder: Path) -> None:
    """Matplotlib's font list, copied from the grader's cache into the worker's (fresh, empty)
    ``MPLCONFIGDIR``: without it every worker that plots spends a second or more rebuilding it
    (docs/benchmarks.md). Only the grader's own cache file is read; nothing if there is none."""
    cached = _grader_font_list()
    if cached is None:
        return
    folder.mkdir(mode=0o700, exist_ok=True)
    shutil.copyfile(cached, folder / cached.name)


@functools.cache
def _grader_font_list() -> Path | None:
    """The grader's font list: found where matplotlib keeps it (``MPLCONFIGDIR``, else the XDG
    cache's ``matplotlib``) without importing matplotlib (0.2-0.3 s of every `grade`); built
    by matplotlib only where there is none yet."""
    configured = os.environ.get("MPLCONFIGDIR")
    folder = (Path(configured) if configured else
              Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "matplotlib")
    found = sorted(folder.glob("fontlist-v*.json"))
    if found:
        return found[-1]
    try:
        import matplotlib
        from matplotlib import font_manager
    except ImportError:
        return None
    font_manager.fontManager  # noqa: B018 - built (once, then cached) if it is not yet
    found = sorted(Path(matplotlib.get_cachedir()).glob("fontlist-v*.json"))
    return found[-1] if found else None


def _environment(home: Path) -> dict[str, str]:
    """A scrubbed environment: nothing of the grader's (CI secrets) but what Python needs."""
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8",
           "PYTHONDONTWRITEBYTECODE": "1", "PYTHONHASHSEED": "0", "PYTHONUNBUFFERED": "1",
           "PYTHONNOUSERSITE": "1", "MPLBACKEND": "Agg", "MPLCONFIGDIR": str(home / ".mpl"),
           "TMPDIR": str(home)}
    env.update({k: os.environ[k] for k in _PASSED_ENV if k in os.environ})
    # OpenBLAS left to its default starts a thread per core as NumPy imports, each spinning
    # for work: 0.11 s of CPU of a start-up's 0.32 s on 2 cores (more on more cores;
    # bench/worker_startup.py), and the NumPy backend then sets one thread anyway (its
    # policy where none of these is given, plugins/nlpdojo_numpy/backend.py)
    env.setdefault("OPENBLAS_NUM_THREADS", "1")
    # absolute entries only: the worker's working folder is its scratch, not the grader's
    # (in the sandbox only the worker's packages are bound from them: _python_folders)
    pythonpath = [str(Path(p).resolve()) for p in
                  os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    if pythonpath:
        env["PYTHONPATH"] = os.pathsep.join(pythonpath)
    return env


def _bwrap_argv(code: Path | None, scratch: Path, env: dict[str, str], device: str | None,
                hidden: list[Path], scratch_bytes: int = 0,
                reference: tuple[Path, ...] = ()) -> list[str]:
    argv = [shutil.which("bwrap") or "bwrap", "--unshare-pid", "--unshare-net",
            "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try", "--die-with-parent",
            "--new-session", "--clearenv"]
    if os.getuid() != 0:
        argv.append("--unshare-user")
    for key, value in env.items():
        argv += ["--setenv", key, value]
    argv += ["--proc", "/proc", "--dev", "/dev", *_size(TMP_BYTES), "--tmpfs", "/tmp"]
    for top in SYSTEM_FOLDERS:
        path = Path(top)
        if path.is_symlink():
            argv += ["--symlink", os.readlink(path), top]
        elif path.is_dir():
            argv += ["--ro-bind", top, top]
    for name in ETC_SHOWN:  # of /etc only what a Python process needs (ETC_SHOWN)
        path = Path("/etc") / name
        if path.exists():
            argv += ["--ro-bind", str(path), str(path)]
    bound = _python_folders()
    for folder in bound:
        argv += ["--ro-bind", str(folder), str(folder)]
    masked = _grader_package()
    shown = [Path(r) for r in reference]
    for folder in [*hidden, *hidden_in(bound)]:
        if any(r == folder or r in folder.parents for r in shown):
            continue  # the reference process's own code
        if folder.is_dir() and not any(m == folder or m in folder.parents for m, _ in masked):
            argv += [*_size(EMPTY_BYTES), "--tmpfs", str(folder)]
    argv += _masked_argv(masked, shown)  # the grader's package: only the worker's own modules
    if device and device.startswith("cuda"):
        for dev in sorted(Path("/dev").glob("nvidia*")):
            argv += ["--dev-bind", str(dev), str(dev)]
        argv += ["--ro-bind", "/sys", "/sys"]
        if Path("/proc/driver/nvidia").exists():
            argv += ["--ro-bind", "/proc/driver/nvidia", "/proc/driver/nvidia"]
    for folder in shown:
        argv += ["--ro-bind", str(folder), str(folder)]
    if code is not None:
        argv += ["--ro-bind", str(code), CODE_DIR]
    argv += _scratch_argv(scratch, scratch_bytes or SCRATCH_BYTES)
    argv += ["--chdir", SCRATCH_DIR]
    return _with_parents(argv)


def _masked_argv(masked: tuple[tuple[Path, tuple[Path, ...]], ...],
                 shown: list[Path]) -> list[str]:
    """The grader's packages as the worker sees them: of each package tree (a masked folder
    and the masked folders inside it) only the files :func:`_grader_package` names, with
    their byte-compiled files (not compiled again by every worker that starts). One
    read-only bind of a staged copy per tree (:mod:`.shown`); file by file, each over an
    empty tmpfs, where none can be staged or where a folder the reference process shows lies
    inside the tree (its mount point must be made there)."""
    folders = [folder for folder, _ in masked]
    tops = [f for f in folders if not any(o != f and o in f.parents for o in folders)]
    argv: list[str] = []
    for top in tops:
        members = [(folder, [*files, *(c for c in map(_compiled, files) if c is not None)])
                   for folder, files in masked if folder == top or top in folder.parents]
        inside = any(top in r.parents for r in shown)
        stage = None if inside else staged(top, members)
        if stage is not None:
            argv += ["--ro-bind", str(stage), str(top)]
            continue
        for folder, files in members:
            argv += ["--perms", "0755", *_size(EMPTY_BYTES), "--tmpfs", str(folder)]
            if any(f.parent.name == "__pycache__" for f in files):
                argv += ["--perms", "0755", "--dir", str(folder / "__pycache__")]
            for file in files:
                argv += ["--ro-bind", str(file), str(file)]
    return argv


def _compiled(source: Path) -> Path | None:
    """The byte-compiled module of ``source`` (``__pycache__/NAME.cpython-3XX.pyc``) where
    there is one: Python reads it only while it matches the source (its size and time)."""
    cached = Path(importlib.util.cache_from_source(str(source)))
    return cached if cached.is_file() else None


def _scratch_argv(scratch: Path, size: int) -> list[str]:
    """The worker's scratch folder: a tmpfs capped at ``size`` bytes, writable by the worker's
    user (sticky, like /tmp), with the host's ``stack.txt`` bound into it read-write (the
    grader reads the stack dump after a time-out) and the seeded font list read-only."""
    if not _tmpfs_size_supported():  # bubblewrap < 0.8: the host folder, uncapped
        return ["--bind", str(scratch), SCRATCH_DIR]
    argv = ["--perms", "1777", "--size", str(int(size)), "--tmpfs", SCRATCH_DIR,
            "--bind", str(scratch / "stack.txt"), f"{SCRATCH_DIR}/stack.txt"]
    fonts = sorted((scratch / ".mpl").glob("fontlist-v*.json"))
    if fonts:
        argv += ["--perms", "1777", "--dir", f"{SCRATCH_DIR}/.mpl"]
        argv += ["--ro-bind", str(fonts[-1]), f"{SCRATCH_DIR}/.mpl/{fonts[-1].name}"]
    return argv


@functools.cache
def _tmpfs_size_supported() -> bool:
    """Whether this bubblewrap caps a tmpfs (``--size``, bubblewrap 0.8)."""
    try:
        out = subprocess.run([shutil.which("bwrap") or "bwrap", "--help"], capture_output=True,
                             text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return False
    return "--size" in out.stdout + out.stderr


def _size(size: int) -> list[str]:
    """``--size`` for the next tmpfs where bubblewrap supports it."""
    return ["--size", str(int(size))] if _tmpfs_size_supported() else []


def _with_parents(argv: list[str]) -> list[str]:
    """bwrap run as root makes the folders above a mount point ``0700``, which the worker's
    own user could not cross: create them first, ``0755``."""
    targets = [argv[i + 2] for i, a in enumerate(argv)
               if a in ("--ro-bind", "--bind", "--dev-bind", "--tmpfs") and i + 2 < len(argv)
               and a != "--tmpfs"]
    targets += [argv[i + 1] for i, a in enumerate(argv) if a == "--tmpfs"]
    parents = sorted({str(p) for t in targets for p in Path(t).parents if str(p) != "/"},
                     key=lambda p: (p.count("/"), p))
    made = [x for p in parents for x in ("--perms", "0755", "--dir", p)]
    at = next(i for i in range(len(argv) - 1) if argv[i:i + 2] == ["--tmpfs", "/tmp"]) + 2
    return argv[:at] + made + argv[at:]  # after /tmp's tmpfs, which would hide them


@functools.lru_cache(maxsize=1)
def _python_folders() -> tuple[Path, ...]:
    """What the worker's interpreter needs, and nothing else of the grader's: the interpreter
    and its standard library, the site-packages folders (with the folders their ``.pth`` files
    name, a legacy editable install's, and the targets of links inside them: an environment
    may link its packages from elsewhere) and the folders of the packages the worker imports
    (``nlpdojo``, ``nlpdojo_autograder``, the plugins' top-level packages: an editable install
    keeps them in the source tree, a ``PYTHONPATH`` entry anywhere).

    Other ``sys.path`` and ``PYTHONPATH`` entries only where distributions are installed in
    them (``pip install --target``): ``python -m``, a script and ``PYTHONPATH=.`` put the
    grader's working folder there, with other submissions, reports and a CI ``.env`` in it.
    Git folders are hidden by :func:`hidden_in`."""
    folders = {Path(sys.base_prefix), Path(sys.prefix), Path(sys.executable).parent}
    paths = sysconfig.get_paths()
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        folders.add(Path(paths[key]))
    sites = {Path(p) for p in site.getsitepackages()}
    sites.update(Path(paths[key]) for key in ("purelib", "platlib"))
    folders |= sites
    for site_dir in sites:
        folders.update(_pth_folders(site_dir))
    # other entries of sys.path and PYTHONPATH only where packages are installed in them
    # (``pip install --target``): never the working folder that ``python -m`` puts there
    entries = [*sys.path, *os.environ.get("PYTHONPATH", "").split(os.pathsep)]
    folders.update(Path(p) for p in entries if p and _is_package_folder(Path(p)))
    for folder in list(folders):
        try:
            links = [entry for entry in folder.iterdir() if entry.is_symlink()]
        except OSError:
            continue
        for link in links:
            target = link.resolve()
            target = target if target.is_dir() else target.parent
            if not _source_tree(target):  # a link to a project's root: as in _pth_folders
                folders.add(target)
    for top in _worker_packages():
        try:
            spec = importlib.util.find_spec(top)
        except (ImportError, ValueError):
            continue
        if spec is None:
            continue
        if spec.submodule_search_locations:
            folders.update(Path(p) for p in spec.submodule_search_locations)
        elif spec.origin and spec.origin not in ("built-in", "frozen"):
            folders.add(Path(spec.origin))  # a module of one file: that file only
    resolved = {f.resolve() for f in folders if f.is_absolute() and f.exists()}
    resolved.discard(Path("/"))
    # a folder inside another one is bound with it
    return tuple(sorted(f for f in resolved
                        if not any(p != f and p in f.parents for p in resolved)))


@functools.lru_cache(maxsize=1)
def _grader_package() -> tuple[tuple[Path, tuple[Path, ...]], ...]:
    """Packages of the grader the sandbox shows in part: each folder with the files the
    worker needs of it, the rest hidden.

    * ``nlpdojo_autograder``: the worker's own modules
      (:data:`~.subject.WORKER_MODULES`) and the check-building API
      (:data:`~.subject.PACK_API_MODULES`) that an exercise pack's
      plugin imports when the worker loads it, each with the ``__init__`` of the packages
      above it. The rest (the grader's side of the runtime, grading, release, the training
      kit, the CLI) is the grader's.
    * a plugin that brings modules (``plugin_modules``: the built-in course brings its
      topics): its plugin module and its package's ``__init__``; the worker loads the plugin
      but never the modules it brings (a topic's checks and metrics are the grader's; the
      analogy metric is the answer to a question)."""
    shown: dict[str, tuple[str, ...]] = {}
    for name in (*WORKER_MODULES, *PACK_API_MODULES):
        full = f"{GRADER_PACKAGE}.{name}"
        package, _, module = (f"{full}.__init__" if _is_package(full) else full).rpartition(".")
        parts = package.split(".")
        for depth in range(1, len(parts) + 1):  # the packages above it: their ``__init__``
            shown.setdefault(".".join(parts[:depth]), ("__init__",))
        shown[package] = (*shown[package], module)
    for plugin in bringing_plugins():
        package, _, module = plugin.__name__.rpartition(".")
        if package:
            shown[package] = (*shown.get(package, ("__init__",)), module)
    masked = []
    for package, modules in shown.items():
        try:
            spec = importlib.util.find_spec(package)
        except (ImportError, ValueError):
            continue
        if spec is None or not spec.submodule_search_locations:
            continue
        for location in spec.submodule_search_locations:
            folder = Path(location).resolve()
            files = [folder / f"{name}.py" for name in modules]
            masked.append((folder, tuple(f for f in files if f.is_file())))
    return tuple(masked)


def _is_package(name: str) -> bool:
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return False
    return spec is not None and bool(spec.submodule_search_locations)


def _worker_packages() -> set[str]:
    """The top-level packages the worker imports besides the standard library and
    site-packages: the core, the grader's worker side, and every plugin's."""
    tops = {"nlpdojo", "nlpdojo_autograder"}
    tops.update(ep.value.split(".")[0].split(":")[0].strip()
                for ep in entry_points(group="nlpdojo"))
    return tops


#: files that make a folder a project's source tree: an editable install (``make venv``,
#: ``pip install -e .``) writes the project's ``*.egg-info`` there, which is no install target
SOURCE_TREE_FILES = ("pyproject.toml", "setup.py", "setup.cfg")


def _is_package_folder(folder: Path) -> bool:
    """A folder that installed distributions live in: a site-packages folder, or one that
    holds a distribution's metadata (``*.dist-info``, ``*.egg-info``) and is not a project's
    source tree (:data:`SOURCE_TREE_FILES`): a clone of a course, on the import path as the
    working folder of ``PYTHONPATH=.`` or pytest's rootdir, holds its editable install's
    ``*.egg-info``, and binding it would show the sandbox all of the clone (a CI ``.env``,
    the submissions and reports kept in it); the worker's own packages in it are bound one
    by one (:func:`_worker_packages`)."""
    if not folder.is_absolute() or not folder.is_dir():
        return False
    if folder.name in ("site-packages", "dist-packages"):
        return True
    if _source_tree(folder):
        return False
    try:
        return any(entry.name.endswith((".dist-info", ".egg-info"))
                   for entry in folder.iterdir())
    except OSError:
        return False


def _source_tree(folder: Path) -> bool:
    """Whether ``folder`` is a project's source tree (:data:`SOURCE_TREE_FILES`)."""
    return any((folder / name).is_file() for name in SOURCE_TREE_FILES)


def _pth_folders(site_dir: Path) -> list[Path]:
    """The folders that the ``.pth`` files of ``site_dir`` add to ``sys.path`` (lines that
    are paths; ``import`` lines run code, they name no folder)."""
    found = []
    try:
        pths = sorted(site_dir.glob("*.pth"))
    except OSError:
        return found
    for pth in pths:
        try:
            lines = pth.read_text(errors="replace").splitlines()
        except OSError:
            continue
        for line in lines:
            line = line.strip()
            if not line or line.startswith(("#", "import ", "import\t")):
                continue
            folder = Path(line) if Path(line).is_absolute() else site_dir / line
            # a legacy or compat editable install names its project's root: bound whole it
            # would show all of the clone (the worker's packages in it are bound one by one)
            if folder.is_dir() and not _source_tree(folder):
                found.append(folder)
    return found


def hidden_in(folders: tuple[Path, ...]) -> list[Path]:
    """Git folders inside what is bound (a clone's history holds the solutions)."""
    return [f / ".git" for f in folders if (f / ".git").is_dir()]
