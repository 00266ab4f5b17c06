"""Grading (docs/architecture.md): choose an exercise's checks, obtain expected values, run the
checks against a worker, judge, record (``grade``, ``runner``, ``results``, ``reporting``), the
incremental cache (``gradecache``, ``deps``), submissions' snapshots and cohorts (``snapshot``,
``child``, ``cluster``). It imports the training kit, the authoring API and the runtime below
it, never release or the CLI above."""
