"""What every worker and reference process pays to start, before its first check: Python, the
worker's imports, the plugin registry and the NumPy backend. The grader starts one worker per
grading (and again after a crash or a time-out) and a reference process per grading that
swaps one in, so this is paid about 1,650 times in a ``make test`` and at least twice per
graded submission (docs/benchmarks.md, "Start-up of a worker").

The start-up as a worker does it now (``runtime/worker_main.py``: its imports without garbage
collection), against two peers, interleaved round by round in fresh processes, all in the
environment the sandbox gives a worker: the same start with the garbage collector on during
the imports, and the start-up as it was before
``nlpdojo.arrays.numpy_namespace`` and the plugins handed over by the grader
(``plugins.chosen_plugins``): ``array_api_compat.numpy`` imported whole (with NumPy's
``testing``, ``f2py``, ``ma``...) and every installed distribution's entry points read
(``importlib.metadata``). CPU seconds of each process (user + system), median of rounds
[min-max], and the ratio per round.

``--sandboxed``: also a whole sandboxed start, bubblewrap and the worker's interpreter to the
end of its imports, as ``sandbox.launch`` makes it (CPU of every process, by cgroup:
``bench/_cpu.py``), with the grader's modules bound as a staged folder per package
(``runtime/shown.py``) against the peer, the same files bound one by one (no stage can be
made: ``NLPDOJO_SHOWN_CACHE`` not a folder), and, run as root, the worker forked into
bubblewrap's sandbox by the fork server (``runtime/forkserver.py``; the server's own start
counted, spread over the round's starts); ``--starts`` starts per round.

    python bench/worker_startup.py [--rounds 9] [--sandboxed [--starts 20]]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from _cpu import cpu_of as cgroup_cpu_of
from _machine import machine, spread  # bench/ is on sys.path when a bench runs

from nlpdojo import plugins
from nlpdojo_autograder.runtime import sandbox

#: the worker's start-up as ``runtime/worker_main.py`` makes it (its imports without garbage
#: collection), given the grader's plugins (as its spec gives them)
PROBE = """
import json
from nlpdojo.startup import imports_without_collection
with imports_without_collection():
    import nlpdojo_autograder.runtime.worker as worker
from nlpdojo import plugins
from nlpdojo.selection import load_backend
chosen = [plugins.ChosenPlugin(*entry) for entry in json.loads(@CHOSEN@)]
plugins.build_without(worker.LEFT_OUT_HOOKS, chosen=chosen)
load_backend("numpy", "cpu", "float64")
"""
#: a peer: the same with the garbage collector on during the imports
COLLECTING = """
import json
from nlpdojo import plugins
from nlpdojo.selection import load_backend
import nlpdojo_autograder.runtime.worker as worker
chosen = [plugins.ChosenPlugin(*entry) for entry in json.loads(@CHOSEN@)]
plugins.build_without(worker.LEFT_OUT_HOOKS, chosen=chosen)
load_backend("numpy", "cpu", "float64")
"""
#: the peer: the namespace imported whole first, the entry points read from the metadata
PEER = """
import array_api_compat.numpy
import importlib.metadata
from nlpdojo import plugins
from nlpdojo.selection import load_backend
import nlpdojo_autograder.runtime.worker as worker
plugins.build_without(worker.LEFT_OUT_HOOKS)
load_backend("numpy", "cpu", "float64")
"""


def cpu_of(code: str) -> float:
    """CPU seconds (user + system) of one fresh process running ``code``, in the environment
    the sandbox gives a worker (``sandbox._environment``)."""
    env = sandbox._environment(Path(tempfile.gettempdir()))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run([sys.executable, "-P", "-c", code], check=True, env=env)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


#: starts ``sys.argv[1]`` sandboxed workers, each to the end of its imports (it exits when
#: its pipe closes)
LAUNCHES = """
import os, shutil, sys, tempfile
from pathlib import Path
from nlpdojo_autograder.runtime import sandbox
for _ in range(int(sys.argv[1])):
    scratch = Path(tempfile.mkdtemp())
    launched = sandbox.launch(sandbox.SANDBOX, code=None, scratch=scratch, device=None,
                              hidden=[])
    os.close(launched.to_worker)
    launched.output.read()
    launched.proc.wait()
    os.close(launched.from_worker)
    shutil.rmtree(scratch, ignore_errors=True)
"""


def sandboxed(rounds: int, starts: int) -> None:
    """CPU seconds per sandboxed start, staged against file by file, interleaved."""
    if sandbox.probe() is not None:
        print(f"no sandbox here: {sandbox.probe()}")
        return
    stages = tempfile.mkdtemp()
    blocked = Path(tempfile.mkdtemp()) / "not-a-folder"
    blocked.write_text("")
    off = {**os.environ, sandbox.FORK_SERVER_ENV: "off"}
    envs = {"staged": {**off, "NLPDOJO_SHOWN_CACHE": stages},
            "file by file": {**off, "NLPDOJO_SHOWN_CACHE": str(blocked / "stages")}}
    if os.getuid() == 0:  # the fork server's starts (its own start included), staged
        envs["forked by the fork server"] = {**os.environ, "NLPDOJO_SHOWN_CACHE": stages,
                                             sandbox.FORK_SERVER_ENV: "always"}
    base = cgroup_cpu_of([sys.executable, "-c", "import nlpdojo_autograder.runtime.sandbox"],
                         dict(os.environ))
    per: dict[str, list[float]] = {name: [] for name in envs}
    for _ in range(rounds):
        for name, env in envs.items():
            cpu, _, how = cgroup_cpu_of([sys.executable, "-c", LAUNCHES, str(starts)], env)
            per[name].append((cpu - base[0]) / starts)
    print(f"sandboxed start (bubblewrap + worker imports), CPU seconds per start ({how}), "
          f"{starts} starts x {rounds} interleaved rounds")
    for name, values in per.items():
        print(f"{name:<51}{spread(values, '{:.3f}')}")
    ratios = [s / f for s, f in zip(per["staged"], per["file by file"], strict=True)]
    print(f"{'ratio staged / file by file, per round':<51}{spread(ratios)}x")
    if "forked by the fork server" in per:
        ratios = [f / s for f, s in zip(per["forked by the fork server"], per["staged"],
                                        strict=True)]
        print(f"{'ratio forked / staged, per round':<51}{spread(ratios)}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--sandboxed", action="store_true",
                        help="also a whole sandboxed start, staged against file by file")
    parser.add_argument("--starts", type=int, default=20)
    args = parser.parse_args()
    chosen = [[c.name, c.value, c.distribution] for c in plugins.chosen_plugins()]
    probe = PROBE.replace("@CHOSEN@", repr(json.dumps(chosen)))
    collecting = COLLECTING.replace("@CHOSEN@", repr(json.dumps(chosen)))
    cpu_of(probe)  # warm the file cache: the first start reads every module from disk
    cpu_of(PEER)
    ours, gc_on, peer = [], [], []
    for _ in range(args.rounds):
        ours.append(cpu_of(probe))
        gc_on.append(cpu_of(collecting))
        peer.append(cpu_of(PEER))
    print(f"worker start-up, CPU seconds per process, {args.rounds} interleaved rounds")
    print(f"machine: {machine()}")
    print(f"now                                                {spread(ours, '{:.3f}')}")
    print(f"imports with garbage collection (peer)             {spread(gc_on, '{:.3f}')}")
    print(f"whole namespace, entry points read (peer)          {spread(peer, '{:.3f}')}")
    for name, values in (("garbage collection", gc_on), ("whole namespace", peer)):
        ratios = [o / p for o, p in zip(ours, values, strict=True)]
        label = f"ratio now / {name}, per round"
        print(f"{label:<51}{spread(ratios)}x "
              f"(median {statistics.median(ratios):.2f}x)")
    if args.sandboxed:
        sandboxed(args.rounds, args.starts)


if __name__ == "__main__":
    main()
