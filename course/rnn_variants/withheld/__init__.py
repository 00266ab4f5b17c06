"""What the grader of topic ``rnn_variants`` keeps from a student's install: the planted bugs of
its questions (``BUGS``, one module per module of the topic's declarations), which quote the
reference they plant into. The student bundle's wheel leaves this package out
(:mod:`nlpdojo_autograder.release.bundle`); ``dojo verify`` and the tests read it through
``Topic(withheld=...)`` where it is installed (docs/authoring.md, "Planted bugs")."""

from __future__ import annotations

from . import cells, classifier, clipping, language_model, sequences, vanishing

BUGS = [cells.BUGS, classifier.BUGS, clipping.BUGS, language_model.BUGS,
        sequences.BUGS, vanishing.BUGS]
