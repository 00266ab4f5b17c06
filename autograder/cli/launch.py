"""The ``grade`` console script's first code: :func:`nlpdojo.startup.one_blas_thread_at_start`
runs before :mod:`.grade` is imported, which imports NumPy (``python -m
nlpdojo_autograder.cli.grade`` runs without it, and a cohort's children, started so by their
``grade``, inherit what it set)."""

from __future__ import annotations

from nlpdojo.startup import one_blas_thread_at_start


def grade() -> None:
    one_blas_thread_at_start()
    from nlpdojo_autograder.cli.grade import main

    main()
