"""A worker's first code, and a reference process's (:mod:`.worker`):
``python -m nlpdojo_autograder.runtime.worker_main IN OUT SCRATCH``.

The worker's modules and NumPy are imported with the garbage collector off and frozen after
(:func:`nlpdojo.startup.imports_without_collection`: collections during the imports found no
garbage and took a tenth of their ~0.3 CPU-s), then :func:`.worker.run_as_process` serves the
grader (:func:`.worker.main`) and gives the exit code. A worker forked by the fork server
(:mod:`.forkserver`) has had its imports made there, and runs :func:`.worker.run_as_process`
too."""

from __future__ import annotations

import os
import sys

from nlpdojo.startup import imports_without_collection


def run(argv: list[str]) -> None:
    """Import the worker, serve, and end the process with the worker's exit code: without
    waiting for threads the student's code left running, nor running atexit hooks."""
    with imports_without_collection():
        from nlpdojo_autograder.runtime import worker
    os._exit(worker.run_as_process(argv))


if __name__ == "__main__":
    run(sys.argv[1:])
