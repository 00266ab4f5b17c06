"""The ``grade`` console script's first code: :func:`nlpdojo.startup.one_blas_thread_at_start`
runs before :mod:`.grade` is imported, which imports NumPy (``python -m
nlpdojo_autograder.cli.grade`` runs without it, and a cohort's children, started so by their
``grade``, inherit what it set); the import runs without garbage collection
(:func:`nlpdojo.startup.imports_without_collection`)."""

from __future__ import annotations

from nlpdojo.startup import imports_without_collection, one_blas_thread_at_start


def grade() -> None:
    one_blas_thread_at_start()
    with imports_without_collection():
        from nlpdojo_autograder.cli.grade import main

    main()


if __name__ == "__main__":  # a cohort's child (grading.child.GRADE_MODULE)
    grade()
