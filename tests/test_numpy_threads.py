"""The NumPy backend's BLAS thread count (plugins/nlpdojo_numpy/backend.py): one thread by
policy, NLPDOJO_NUMPY_THREADS or a BLAS variable set before start-up win, a bad value is a
clear error; ``grade`` and ``dojo`` start OpenBLAS with one thread where the user chose none
(framework/startup.py). Each case runs in a fresh process: the choice is made once per
process."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys

import pytest

from nlpdojo.startup import DEFAULTED_ENV

PROBE = """
import json
from threadpoolctl import threadpool_info
from nlpdojo.selection import load_backend
from nlpdojo_numpy.backend import blas_threads
load_backend("numpy", "cpu", "float32")
blas = [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]
print(json.dumps({**blas_threads(), "now": blas}))
"""


def _run(probe: str = PROBE, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in (
        "NLPDOJO_NUMPY_THREADS", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
        DEFAULTED_ENV)}
    return subprocess.run([sys.executable, "-c", probe], env={**clean, **env},
                          capture_output=True, text=True, timeout=120, check=False)


def _choice(probe: str = PROBE, **env: str) -> dict:
    proc = _run(probe, **env)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_the_policy_is_one_thread():
    choice = _choice()
    if not choice["now"]:
        pytest.skip("NumPy's BLAS is not visible to threadpoolctl here")
    assert choice["source"] == "policy" and choice["threads"] == 1
    assert set(choice["now"]) == {1}


def test_the_environment_variable_sets_it():
    choice = _choice(NLPDOJO_NUMPY_THREADS="2")
    if not choice["now"]:
        pytest.skip("NumPy's BLAS is not visible to threadpoolctl here")
    assert choice["source"] == "NLPDOJO_NUMPY_THREADS" and set(choice["now"]) == {2}


def test_a_blas_variable_set_before_start_up_is_kept():
    choice = _choice(OPENBLAS_NUM_THREADS="2")
    assert choice["source"] == "OPENBLAS_NUM_THREADS"
    assert choice["threads"] == choice["blas_had"]


#: a command's start: OpenBLAS's threads as NumPy loads, then the backend's choice
AT_START = """
import json, os
from nlpdojo.startup import one_blas_thread_at_start
one_blas_thread_at_start()
import numpy
from threadpoolctl import threadpool_info
at_import = [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]
defaulted = "NLPDOJO_BLAS_THREADS_DEFAULTED" in os.environ
print(json.dumps({"at_import": at_import, "defaulted": defaulted}))
""" + PROBE


def test_a_command_starts_openblas_with_one_thread_and_the_choice_stays_the_policys():
    choice = _choice(AT_START)
    if not choice["now"]:
        pytest.skip("NumPy's BLAS is not visible to threadpoolctl here")
    start = json.loads(_run(AT_START).stdout.splitlines()[-2])
    assert start == {"at_import": [1], "defaulted": True}
    assert (choice["source"], choice["threads"], set(choice["now"])) == ("policy", 1, {1})


@pytest.mark.parametrize(("env", "source", "threads"), [
    ({"NLPDOJO_NUMPY_THREADS": "2"}, "NLPDOJO_NUMPY_THREADS", 2),
    ({"OPENBLAS_NUM_THREADS": "2"}, "OPENBLAS_NUM_THREADS", 2),
    ({"OMP_NUM_THREADS": "1"}, "OMP_NUM_THREADS", None)])
def test_a_command_leaves_a_thread_count_the_user_chose(env, source, threads):
    proc = _run(AT_START, **env)
    assert proc.returncode == 0, proc.stderr
    start, choice = (json.loads(line) for line in proc.stdout.splitlines()[-2:])
    assert start["defaulted"] is False
    assert choice["source"] == source
    if threads is not None and choice["now"]:
        assert set(choice["now"]) == {threads}


@pytest.mark.parametrize("command", [
    "from nlpdojo_autograder.cli.launch import grade as run; sys.argv = ['grade', '--help']",
    "from nlpdojo.cli.app import main as run; sys.argv = ['dojo', '--help']"],
    ids=["grade", "dojo"])
def test_the_console_scripts_start_openblas_with_one_thread(command):
    """``grade`` (its console script's function, ``launch.grade``) and ``dojo``'s ``main``
    set the variable before NumPy loads: the process's OpenBLAS has one thread."""
    probe = f"""
import atexit, json, os, sys
def said():
    from threadpoolctl import threadpool_info
    blas = [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]
    sys.stderr.write("BLAS " + json.dumps([blas, os.environ.get("OPENBLAS_NUM_THREADS")]))
atexit.register(said)
{command}
run()
"""
    proc = _run(probe)
    said = [line for line in proc.stderr.splitlines() if line.startswith("BLAS ")]
    assert said, proc.stderr
    blas, variable = json.loads(said[-1].removeprefix("BLAS "))
    assert variable == "1"
    assert set(blas) <= {1}


def test_a_bad_value_is_a_clear_error():
    proc = _run(NLPDOJO_NUMPY_THREADS="many")
    assert proc.returncode != 0
    assert "NLPDOJO_NUMPY_THREADS='many': give a positive number of threads" in proc.stderr


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt is glibc's")
def test_the_numpy_backend_keeps_arrays_up_to_32_mb_on_the_heap():
    """glibc maps every allocation above 128 kB afresh and unmaps it when freed: a training
    step paid those page faults at every step (bench/rnn_lm_step.py). The backend sets the
    threshold once per process; the call says whether it could."""
    from nlpdojo_numpy import backend as numpy_backend

    numpy_backend.NumpyBackend()
    assert numpy_backend._heap_kept is True
    assert numpy_backend.keep_arrays_on_the_heap() is True  # once: the same answer again
