"""What a command-line process sets before anything imports NumPy (standard library only).

**One BLAS thread from the start.** OpenBLAS, left to its default as NumPy imports, starts a
thread per core, each spinning for work: about 60 ms of CPU of a ``grade`` process's 0.6 s on 2
cores (``bench/grade_startup.py``), paid again by every process the command starts that
inherits its environment (a cohort's children, the reference process). The NumPy backend
then sets one thread anyway (its policy, ``nlpdojo_numpy.backend``), so ``grade`` and
``dojo`` start OpenBLAS with one (``OPENBLAS_NUM_THREADS=1``) where the user set none of the
BLAS thread variables nor ``NLPDOJO_NUMPY_THREADS``; :data:`DEFAULTED_ENV` tells the backend
that the variable is the command's, not the user's, so its choice stays the policy's (and
``NLPDOJO_NUMPY_THREADS=2`` still gives a second thread: OpenBLAS 0.3.31 grows its pool).

**No garbage collection of the imports.** A command imports some thousand modules before it
does anything, and the collector, triggered by every 700 new objects, traverses everything
allocated so far each time it reaches the oldest generation; none of it is garbage. The
commands import with the collector off and then freeze what they imported
(:func:`imports_without_collection`): later collections pass it over.
"""

from __future__ import annotations

import contextlib
import gc
import os
from collections.abc import Iterator

#: the variables the BLAS libraries read for their thread count at start-up
BLAS_THREAD_ENVS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
#: the NumPy backend's own thread setting (``nlpdojo_numpy.backend.THREADS_ENV``)
NUMPY_THREADS_ENV = "NLPDOJO_NUMPY_THREADS"
#: set (to "1") where :func:`one_blas_thread_at_start` set ``OPENBLAS_NUM_THREADS``
DEFAULTED_ENV = "NLPDOJO_BLAS_THREADS_DEFAULTED"


def one_blas_thread_at_start() -> None:
    """Start OpenBLAS with one thread in this process and those it starts, unless the user
    chose a thread count (any of :data:`BLAS_THREAD_ENVS` or :data:`NUMPY_THREADS_ENV`).
    Call it before NumPy is imported: OpenBLAS reads the variable once, as it loads."""
    if any(os.environ.get(name) for name in (*BLAS_THREAD_ENVS, NUMPY_THREADS_ENV)):
        return
    os.environ["OPENBLAS_NUM_THREADS"] = "1"
    os.environ[DEFAULTED_ENV] = "1"


def blas_threads_preset() -> str | None:
    """The BLAS thread variable the user set (the first of :data:`BLAS_THREAD_ENVS`), or
    None: none, or only the one :func:`one_blas_thread_at_start` set."""
    if os.environ.get(DEFAULTED_ENV) == "1" and os.environ.get("OPENBLAS_NUM_THREADS") == "1":
        return next((name for name in BLAS_THREAD_ENVS[1:] if os.environ.get(name)), None)
    return next((name for name in BLAS_THREAD_ENVS if os.environ.get(name)), None)


@contextlib.contextmanager
def imports_without_collection() -> Iterator[None]:
    """Run the block (a command's imports) with the garbage collector off, then move every
    object it tracks into the permanent generation (:func:`gc.freeze`), which later collections
    skip: module objects, functions and classes that live as long as the process. Collection
    is on again after the block, whatever it raised; one the block had switched off stays off."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if was_enabled:
            gc.enable()
