"""What the grader of topic ``cnn_text`` keeps from a student's install: the planted bugs of
its questions (``BUGS``, one module per module of the topic's declarations), which quote the
reference they plant into. The student bundle's wheel leaves this package out
(:mod:`nlpdojo_autograder.release.bundle`); ``dojo verify`` and the tests read it through
``Topic(withheld=...)`` where it is installed (docs/authoring.md, "Planted bugs")."""

from __future__ import annotations

from . import (
    char_cnn,
    classifier,
    convolution,
    max_norm,
    multichannel,
    normalization,
    pooling,
    qrnn,
    residual,
    vdcnn,
)

BUGS = [classifier.BUGS, convolution.BUGS, max_norm.BUGS, normalization.BUGS,
        pooling.BUGS, qrnn.BUGS, residual.BUGS, char_cnn.BUGS,
        vdcnn.BUGS, multichannel.BUGS]
