"""The planted bugs of :mod:`nlpdojo_course.word_vectors.evaluation`'s questions (withheld
from a student's install: each quotes the reference it plants into)."""

from __future__ import annotations

from nlpdojo_autograder.authoring import bug

BUGS = [
    bug("nearest_neighbours' word and k written in, not the arguments",
        "    « → index, k = 3, 2\n    »cosines = unit @ unit[index]"),
    bug("nearest_neighbours keeps the word itself", "«    cosines[index] = -np.inf  # never its "
        "own neighbour\n → »", says="is not its own neighbour"),
    # student trials: each kept 2 of 2 while every k was 8 or less, no vector repeated, none 0
    bug("nearest_neighbours leaves the word in with a score of 0",
        "    cosines[index] = «-np.inf → 0.0»  # never its own neighbour",
        says="is not its own neighbour"),
    bug("nearest_neighbours unsorted (argpartition alone)",
        "«return top[np.argsort(-cosines[top], kind=\"stable\")] → return top»"),
    bug("cosine_similarities without the norms' floor (0 / 0 for a zero vector)",
        "return np.sum(a * b, axis=1) / «np.maximum(norms, 1e-12) → norms»", says="NaN"),
    bug("analogy does not exclude question words",
        "scores[rows, a] = scores[rows, b] = scores[rows, c] = -np.inf", "pass"),
    # a student trial: 2 of 2 while some answer of every planted question scored above 0
    bug("analogy excludes the question words with a score of 0",
        "scores[rows, a] = scores[rows, b] = scores[rows, c] = «-np.inf → 0.0»"),
    bug("the projection of vectors not centred", "x« - x.mean(axis=0, keepdims=True) → »"),
]
