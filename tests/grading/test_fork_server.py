"""The fork server (runtime/forkserver.py): a worker it forks into a sandbox is in the sandbox
bubblewrap made, as a worker bubblewrap starts itself is: the same mounts, user, capabilities,
limits, environment, descriptors and namespaces, read by the grader from ``/proc`` while each
worker waits for its spec. Its CPU time and memory are read through its parent, the server's
child, and through nothing else. The attacks of test_hostile.py run against forked workers too
(their ``forked`` variants)."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from nlpdojo_autograder.runtime import forkserver, remote, sandbox
from nlpdojo_autograder.runtime.sandbox import FORK_SERVER_ENV

pytestmark = pytest.mark.skipif(
    sandbox.probe() is not None or os.getuid() != 0,
    reason=f"no fork server here: {sandbox.probe() or 'the grader is not root'}")



@pytest.fixture(autouse=True)
def _servers_of_this_test():
    """No fork server of another test's (the process keeps one per worker environment)."""
    sandbox._close_fork_servers()
    yield
    sandbox._close_fork_servers()


#: what /proc/PID/status says of a process's identity and privileges
STATUS = ("Uid", "Gid", "Groups", "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb",
          "NoNewPrivs", "Seccomp")


def _launch(tmp_path: Path, how: str, monkeypatch) -> sandbox.Launched:
    monkeypatch.setenv(FORK_SERVER_ENV, how)
    scratch = tmp_path / how
    scratch.mkdir()
    return sandbox.launch(sandbox.SANDBOX, code=None, scratch=scratch, device=None,
                          hidden=[Path(__file__).resolve().parents[2] / "solutions"])


def _worker_pid(launched: sandbox.Launched) -> int:
    """The worker's pid (the grader's view): the one process in its tree running Python in a
    PID namespace of its own, once it waits for its spec."""
    roots = [launched.parent] if launched.parent is not None else [launched.proc.pid]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        for pid in (p for root in roots for p in remote._tree(root) if p != root):
            try:
                status = Path(f"/proc/{pid}/status").read_text()
                exe = os.readlink(f"/proc/{pid}/exe")
            except OSError:
                continue
            nspid = next(line for line in status.splitlines() if line.startswith("NSpid"))
            if "python" in Path(exe).name and len(nspid.split()) == 3 and _waits(pid):
                return pid
        time.sleep(0.05)
    raise AssertionError("no worker found")


#: poll(2) and ppoll(2) on x86-64, ppoll(2) on arm64: the channel's wait for the spec
WAITING_SYSCALLS = {"7", "271", "73"}


def _waits(pid: int) -> bool:
    """Whether the worker waits for its spec (its imports done: a worker bubblewrap started
    reads its modules' files until then, and those descriptors would be compared)."""
    try:
        wchan = Path(f"/proc/{pid}/wchan").read_text()
        syscall = Path(f"/proc/{pid}/syscall").read_text().split()[0]
    except (OSError, IndexError):
        return False
    return "poll" in wchan or syscall in WAITING_SYSCALLS


def _facts(pid: int) -> dict[str, object]:
    """What the grader reads of a worker from ``/proc``."""
    proc = Path(f"/proc/{pid}")
    status = dict(line.split(":", 1) for line in (proc / "status").read_text().splitlines())
    mounts = sorted((line.split()[4], line.split(" - ")[1].split()[0],
                     line.split()[5].split(",")[0]) for line in
                    (proc / "mountinfo").read_text().splitlines())
    fds = sorted(target.split(":")[0] if ":" in target else target for target in (
        os.readlink(proc / "fd" / fd) for fd in os.listdir(proc / "fd")))
    ours = {n: os.readlink(f"/proc/self/ns/{n}") for n in forkserver.NAMESPACES}
    stat = (proc / "stat").read_text().rsplit(")", 1)[1].split()
    return {"status": {k: status[k].strip() for k in STATUS},
            "mounts": mounts,
            "environment": sorted((proc / "environ").read_bytes().split(b"\0")),
            "descriptors": fds,
            "limits": (proc / "limits").read_text(),
            "cwd": os.readlink(proc / "cwd"),
            "namespaces shared with the grader": sorted(
                n for n in forkserver.NAMESPACES if os.readlink(proc / "ns" / n) == ours[n]),
            # (a session of bubblewrap's, or its own: never the grader's, and no terminal)
            "in the grader's session": int(stat[3]) == os.getsid(0),
            "terminal": int(stat[4])}


def _stop(launched: sandbox.Launched) -> None:
    os.close(launched.to_worker)
    launched.output.read()
    launched.proc.wait()
    os.close(launched.from_worker)


def test_a_forked_worker_is_in_a_sandbox_like_the_one_bubblewrap_starts(tmp_path, monkeypatch):
    started = _launch(tmp_path, "off", monkeypatch)
    forked = _launch(tmp_path, "always", monkeypatch)
    try:
        assert started.parent is None and forked.parent is not None
        direct, via_server = _facts(_worker_pid(started)), _facts(_worker_pid(forked))
    finally:
        _stop(started)
        _stop(forked)
    assert via_server == direct
    assert direct["namespaces shared with the grader"] == []
    assert not direct["in the grader's session"] and direct["terminal"] == 0
    # (the channel's pipes: at the numbers the grader gave, as its command line says)
    assert direct["descriptors"] == ["/dev/null", "pipe", "pipe", "pipe", "pipe"]
    assert ("/nlpdojo/scratch", "tmpfs", "rw") in direct["mounts"]
    # both ended as their worker did: it read the end of its spec's pipe and said so
    assert started.proc.returncode == forked.proc.returncode == 1


def test_a_forked_workers_end_is_bubblewraps(tmp_path, monkeypatch):
    """bubblewrap ends as the worker it holds did, killed by a signal included: the
    placeholder ends the same way (what the grader reports of a worker that died)."""
    forked = _launch(tmp_path, "always", monkeypatch)
    os.kill(_worker_pid(forked), 9)
    forked.output.read()
    assert forked.proc.wait(timeout=30) == (
        _bubblewraps_end_on(tmp_path, monkeypatch, signal=9))
    for fd in (forked.to_worker, forked.from_worker):
        os.close(fd)


def _bubblewraps_end_on(tmp_path: Path, monkeypatch, *, signal: int) -> int:
    started = _launch(tmp_path, "off", monkeypatch)
    os.kill(_worker_pid(started), signal)
    started.output.read()
    code = started.proc.wait(timeout=30)
    for fd in (started.to_worker, started.from_worker):
        os.close(fd)
    return code


def test_a_forked_workers_cpu_time_and_memory_are_read_through_its_parent(tmp_path,
                                                                          monkeypatch):
    forked = _launch(tmp_path, "always", monkeypatch)
    try:
        worker = _worker_pid(forked)
        fields = Path(f"/proc/{worker}/stat").read_text().rsplit(")", 1)[1].split()
        own = sum(int(v) for v in fields[11:13]) / remote._CLOCK_TICKS
        through_parent = remote._tree_cpu_seconds(forked.parent, forked.parent_start)
        assert through_parent is not None and through_parent >= own
        resident = remote._tree_resident(forked.parent, forked.parent_start, root=False)
        assert resident == int(Path(f"/proc/{worker}/statm").read_text().split()[1]) \
            * os.sysconf("SC_PAGE_SIZE")
        # the pid of a process that started at another time (the pid taken again once the
        # worker's parent ended) counts nothing
        assert remote._tree_cpu_seconds(forked.parent, forked.parent_start + 1) is None
        assert remote._tree_resident(forked.parent, forked.parent_start + 1, root=False) == 0
        # nor does the server's end change what is counted: the parent is known by its pid
        # and start time, not by its parent (it is the init's child once the server is gone)
        sandbox._close_fork_servers()
        assert remote._tree_cpu_seconds(forked.parent, forked.parent_start) == \
            pytest.approx(through_parent, abs=0.05)
    finally:
        _stop(forked)


def test_a_fork_server_that_died_costs_nothing_but_its_speed(tmp_path, monkeypatch):
    """The server killed: the next worker starts the usual way, and another server starts as
    the first did (after :data:`~.sandbox.FORK_SERVER_AFTER` starts)."""
    forked = _launch(tmp_path, "always", monkeypatch)
    _stop(forked)
    (first,) = sandbox._SERVERS.values()
    first.proc.kill()
    first.proc.wait()
    monkeypatch.setenv(FORK_SERVER_ENV, "")
    started = []
    for n in range(sandbox.FORK_SERVER_AFTER + 1):
        scratch = tmp_path / f"after-{n}"
        scratch.mkdir()
        if n == sandbox.FORK_SERVER_AFTER:  # the new server's imports done
            (second,) = sandbox._SERVERS.values()
            second.wait(forkserver.DEADLINE_S)
        launched = sandbox.launch(sandbox.SANDBOX, code=None, scratch=scratch, device=None,
                                  hidden=[])
        started.append(launched.parent is not None)
        _stop(launched)
    assert started == [False] * sandbox.FORK_SERVER_AFTER + [True]
    assert second is not first and first.broken


def test_a_server_that_loaded_a_hidden_module_forks_no_worker(tmp_path, monkeypatch):
    """Every module file the server loaded must be one the sandbox shows: a folder it loaded
    from that a grading hides (here the worker's own runtime), or one the sandbox does not
    bind, and no worker is forked."""
    forked = _launch(tmp_path, "always", monkeypatch)
    _stop(forked)
    runtime = Path(forkserver.__file__).resolve().parent
    (server,) = sandbox._SERVERS.values()
    files, packages = sandbox._package_view(sandbox._grader_package())
    bound = sandbox._bound_roots(sandbox._python_folders())
    assert server.shows([], files, packages, bound)
    # a module from a folder no sandbox binds (here: none bound but the grader's packages)
    assert not server.shows([], files, packages, packages)
    scratch = tmp_path / "hidden"
    scratch.mkdir()
    with pytest.raises(forkserver.ForkServerError, match="does not show"):
        sandbox.launch(sandbox.SANDBOX, code=None, scratch=scratch, device=None,
                       hidden=[runtime])
    monkeypatch.setenv(FORK_SERVER_ENV, "")
    launched = sandbox.launch(sandbox.SANDBOX, code=None, scratch=scratch, device=None,
                              hidden=[runtime])
    assert launched.parent is None  # started by bubblewrap instead
    _stop(launched)
    shutil.rmtree(scratch, ignore_errors=True)
