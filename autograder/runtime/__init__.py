"""The sandbox runtime, the engine's lowest layer (docs/architecture.md): the worker that runs
a student's code (``worker``, ``calls``, ``subject``, ``objects``, ``loader``, ``probes``,
``untrusted``), the wire between it and the grader (``channel``), and the grader's side of a
call (``remote``, ``callbacks``, ``sandbox``). It imports no other layer of the engine; the
sandbox shows the worker only its own modules (``subject.WORKER_MODULES``)."""
