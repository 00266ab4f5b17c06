"""Release and notebooks (docs/architecture.md): the student version generated from the
solutions (``release``, ``fixtures``, ``consistency``), the proof of a course (``verify``),
bundles (``bundle``, ``gradescope_zip``) and notebooks (``notebooks``, ``notebook_check``,
``notebook_submission``, ``notebook_feedback``). It imports grading and the layers below it,
never the CLI."""
