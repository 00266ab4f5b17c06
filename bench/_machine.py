"""The machine a benchmark ran on, printed with every figure (CPU model, cores, BLAS and its
threads, load average): these machines are shared, and a ratio means little without the load
it was measured under. And the one summary every interleaved benchmark reports: the median of
its rounds and their spread (min-max)."""

from __future__ import annotations

import os
import platform
import statistics
from collections.abc import Sequence
from pathlib import Path


def cpu_model() -> str:
    """The CPU's model name (``/proc/cpuinfo``), else what ``platform`` knows."""
    info = Path("/proc/cpuinfo")
    lines = info.read_text().splitlines() if info.exists() else []
    return next((line.split(":", 1)[1].strip() for line in lines
                 if line.startswith("model name")), platform.processor() or platform.machine())


def load_average() -> str:
    """The 1, 5 and 15-minute load averages, ``"1.20 0.90 0.41"``."""
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def blas() -> str:
    """The BLAS libraries loaded in this process, the kernel each runs (threadpoolctl's
    ``architecture``) and their thread counts, ``"openblas 0.3.31 Haswell kernel (1 thread)"``,
    and whether ``OPENBLAS_CORETYPE`` chose that kernel (these machines set it to Haswell on
    AVX-512 CPUs, which halves sgemm). A benchmark whose work runs in other processes
    (``grade_startup.py``) loads NumPy here to name the kernel they load too."""
    try:
        import numpy  # noqa: F401  (loads its BLAS: the kernel is the machine's)
        from threadpoolctl import threadpool_info
    except ImportError:  # pragma: no cover - both are dependencies of the NumPy backend
        return "BLAS unknown (no NumPy or threadpoolctl)"
    found = []
    for lib in threadpool_info():
        if lib["user_api"] == "blas":
            n = lib["num_threads"]
            kernel = f" {lib['architecture']} kernel" if lib.get("architecture") else ""
            found.append(f"{lib.get('internal_api', lib['prefix'])} {lib.get('version') or '?'}"
                         f"{kernel} ({n} thread{'' if n == 1 else 's'})")
    if not found:
        return "no BLAS loaded"
    coretype = os.environ.get("OPENBLAS_CORETYPE")
    chosen = (f", OPENBLAS_CORETYPE={coretype} set" if coretype
              else ", OPENBLAS_CORETYPE not set")
    return ", ".join(dict.fromkeys(found)) + chosen  # one line per distinct library


def machine() -> str:
    """CPU model, cores, BLAS and its threads, load average now: one line per figure."""
    return (f"{cpu_model()}, {os.cpu_count()} cores, BLAS {blas()}, "
            f"load average {load_average()}")


def spread(values: Sequence[float], fmt: str = "{:.2f}") -> str:
    """``"median [min-max]"`` of the rounds; a single value alone."""
    if not values:
        raise ValueError("no values to summarise")
    middle = fmt.format(statistics.median(values))
    if len(values) == 1:
        return middle
    return f"{middle} [{fmt.format(min(values))}-{fmt.format(max(values))}]"


def ratios(ours: Sequence[float], peer: Sequence[float]) -> list[float]:
    """Per-round ratios ``ours[i] / peer[i]`` of two interleaved series (rates, higher is
    better): each round's pair ran back to back, under the same load, so the ratio of a round
    is steadier than the ratio of two medians."""
    if len(ours) != len(peer):
        raise ValueError(f"{len(ours)} rounds against {len(peer)}: interleave them one to one")
    return [a / b for a, b in zip(ours, peer, strict=True)]
