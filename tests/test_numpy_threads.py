"""The NumPy backend's BLAS thread count (plugins/nlpdojo_numpy/backend.py): one thread by
policy, NLPDOJO_NUMPY_THREADS or a BLAS variable set before start-up win, a bad value is a
clear error. Each case runs in a fresh process: the choice is made once per process."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys

import pytest

PROBE = """
import json
from threadpoolctl import threadpool_info
from nlpdojo.selection import load_backend
from nlpdojo_numpy.backend import blas_threads
load_backend("numpy", "cpu", "float32")
blas = [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]
print(json.dumps({**blas_threads(), "now": blas}))
"""


def _run(**env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in (
        "NLPDOJO_NUMPY_THREADS", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")}
    return subprocess.run([sys.executable, "-c", PROBE], env={**clean, **env},
                          capture_output=True, text=True, timeout=120, check=False)


def _choice(**env: str) -> dict:
    proc = _run(**env)
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
