"""What the grader of topic ``language_models`` keeps from a student's install: the planted bugs of
its questions (``BUGS``, one module per module of the topic's declarations), which quote the
reference they plant into. The student bundle's wheel leaves this package out
(:mod:`nlpdojo_autograder.release.bundle`); ``dojo verify`` and the tests read it through
``Topic(withheld=...)`` where it is installed (docs/authoring.md, "Planted bugs")."""

from __future__ import annotations

from . import encoder, ngrams, rnn, sampling, smoothing, window_lm

BUGS = [encoder.BUGS, ngrams.BUGS, rnn.BUGS, sampling.BUGS, smoothing.BUGS,
        window_lm.BUGS]
