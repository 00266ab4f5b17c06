"""The planted bugs of :mod:`nlpdojo_course.word_vectors.evaluation`'s questions (withheld
from a student's install: each quotes the reference it plants into)."""

from __future__ import annotations

from nlpdojo_autograder.authoring import bug

BUGS = [
    bug("nearest_neighbours' word and k written in, not the arguments",
        "    « → index, k = 3, 2\n    »cosines = unit @ unit[index]"),
    bug("nearest_neighbours keeps the word itself", "«    cosines[index] = -np.inf  # never its "
        "own neighbour\n → »", says="is not its own neighbour"),
    bug("analogy does not exclude question words",
        "scores[rows, a] = scores[rows, b] = scores[rows, c] = -np.inf", "pass"),
    bug("the projection of vectors not centred", "x« - x.mean(axis=0, keepdims=True) → »"),
]
