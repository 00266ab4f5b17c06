"""Evaluating word vectors (CS224n lecture 2): cosine similarity, nearest neighbours and
Spearman's rho against human scores (WordSim-353), analogies by 3CosAdd, and a labelled 2-D
projection."""

from __future__ import annotations

import numpy as np

from nlpdojo_autograder.authoring import (
    CheckFailure,
    Context,
    Question,
    call,
    calls_check,
    function_check,
)
from nlpdojo_autograder.authoring.inputs import (
    derived,
    draw,
    inputs,
    integers,
    normal,
    require,
    scratch,
)

WORDS = [f"w{i}" for i in range(40)]
WORD2IND = {w: i for i, w in enumerate(WORDS)}


def _word_pairs(rng, drawn) -> list:
    pairs = [(WORDS[i], WORDS[j], float(s)) for i, j, s in
             zip(rng.integers(0, 40, 30), rng.integers(0, 40, 30), rng.uniform(0, 10, 30),
                 strict=True)]
    return pairs + [("w1", "unknown", 5.0)]  # out of vocabulary: skipped


def _not_itself(neighbours: np.ndarray, word: int, k: int) -> None:
    if word in neighbours.tolist():
        raise CheckFailure(f"nearest_neighbours(vectors, {word}, {k}) includes word {word} "
                           "itself; a word is not its own neighbour (its cosine with itself is "
                           "1, the largest)")


def _neighbour_ids(key: str, word_key: str = "word", k_key: str = "k"):
    """The inspection of a ``nearest_neighbours`` call: integer ids (float ids kept full marks
    while equal in value, and break ``words[i]``: a student trial), never the word itself."""
    def inspect(outputs, args) -> None:
        found = np.asarray(outputs[key])
        if not np.issubdtype(found.dtype, np.integer):
            raise CheckFailure(f"nearest_neighbours returned ids of dtype {found.dtype}; word "
                               "ids are integers (an index into the vocabulary: words[i])")
        _not_itself(found, int(args[word_key]), int(args[k_key]))
    return inspect


def _twins(drawn) -> np.ndarray:
    """The vectors with the word's own vector copied just before it (``twin``): a tie at
    cosine 1, where leaving out the first of the sorted list drops the twin, not the word (a
    student trial's slicing kept 2 of 2)."""
    vectors = np.array(drawn["vectors"], copy=True)
    vectors[drawn["twin_word"] - 1] = vectors[drawn["twin_word"]]
    return vectors


def _with_a_zero_vector(drawn) -> np.ndarray:
    """The vectors with word 5's all zeros: its cosine with anything is 0, not NaN (0 / 0:
    a division without the norm's floor kept 2 of 2)."""
    vectors = np.array(drawn["vectors"], copy=True)
    vectors[5] = 0.0
    return vectors


SIMILARITY_CALLS = [
    call("similarity_spearman", "vectors", "word2ind", "pairs", out=("rho", "n_used")),
    # the word and k drawn per grading (a second review kept 2 of 2 with both written in)
    call("nearest_neighbours", "vectors", "word", "k", out="neighbours",
         inspect=_neighbour_ids("neighbours")),
    # k near the vocabulary's size, where the last neighbours' cosines are negative: a word
    # left among the candidates with a score of 0 (not −inf) is its own neighbour there (a
    # student trial: 2 of 2 with k <= 8)
    call("nearest_neighbours", "vectors", "word", "k_far", out="neighbours, k near 40",
         inspect=_neighbour_ids("neighbours, k near 40", k_key="k_far")),
    call("nearest_neighbours", "twins", "twin_word", "k",
         out="neighbours, a twin vector before the word",
         inspect=_neighbour_ids("neighbours, a twin vector before the word", "twin_word")),
    # a vocabulary of 2,000 and k of about 300: the neighbours best first (argpartition alone
    # is not sorted there; at 40 words and k <= 8 it happened to be)
    call("nearest_neighbours", "many", "word", "k_many", out="neighbours, 2,000 words",
         inspect=_neighbour_ids("neighbours, 2,000 words", k_key="k_many")),
    call("cosine_similarities", "vectors", np.array([0, 1, 2]), np.array([3, 1, 39]),
         out="cosines"),
    call("cosine_similarities", "with_zero", np.array([5, 1, 5]), np.array([2, 5, 5]),
         out="cosines with a zero vector")]


def _analogy_args(ctx: Context):
    """Planted analogies (word b_i = word a_i + one offset), vectors with a little noise, a
    wrong "answer", and questions that ask whether each of the question's words is excluded
    from the answers (the answer, ``d``, found here as the nearest word but the three):
    ``(a, a, c, d)``, where b - a + c is c itself; ``(a, b, a, d)``, where it is b; and
    ``(a, b, c, d)`` with c a word of its own at 2a - b, where it is about a. Without them,
    whether leaving a question word in changed an answer depended on the draw (it did for
    seed 0, not for seed 1), and leaving b or a in kept full marks (a student trial). Last, a
    question whose every answer scores below 0: its three words alone on a seventh axis
    where every other word lies at -0.5, so that b - a + c points away from all of them (a
    question word "excluded" with a score of 0, not -inf, wins there: it kept 2 of 2, a
    student trial)."""
    rng = ctx.rng()
    base = rng.standard_normal((20, 6))
    offset = rng.standard_normal(6) * 2.0
    vectors = np.concatenate([base, base + offset])  # word i+20 = word i + offset
    vectors = vectors + 0.05 * rng.standard_normal(vectors.shape)
    vectors = np.concatenate([vectors, np.full((40, 1), -0.5)], axis=1)  # (40, 7)
    words = [f"a{i}" for i in range(20)] + [f"b{i}" for i in range(20)]
    # words at 2a - b, of which the first two whose b - a + c lands on a (a, b: distinct words
    # from pairs drawn; the unit vectors make it "about" a, checked here)
    pairs = rng.integers(0, 40, size=(80, 2))
    pairs = pairs[pairs[:, 0] != pairs[:, 1]]  # (P, 2)
    extra = 2.0 * vectors[pairs[:, 0]] - vectors[pairs[:, 1]]  # (P, 6)
    unit_all = np.concatenate([vectors, extra])
    unit_all /= np.linalg.norm(unit_all, axis=1, keepdims=True)
    lands = [k for k, (a, b) in enumerate(pairs)
             if int(np.argmax(np.where(np.isin(np.arange(len(unit_all)), [b, 40 + k]), -np.inf,
                                       unit_all @ (unit_all[b] - unit_all[a]
                                                   + unit_all[40 + k])))) == a][:2]
    towards_a = pairs[lands]
    # the question whose answers all score below 0: a at -1 on the seventh axis, b and c at
    # about +1 (b - a + c about 3 there), every other word at -0.5 on it
    apart = np.zeros((3, 7))
    apart[:, 6] = (-1.0, 1.0, 1.0)
    apart[1:, 0] = (0.1, -0.1)
    vectors = np.concatenate([vectors, extra[lands], apart])  # (40 + 2 + 3, 7)
    words += [f"c{k}" for k in range(len(towards_a))] + ["n0", "n1", "n2"]
    word2ind = {w: i for i, w in enumerate(words)}
    questions = [(f"a{i}", f"b{i}", f"a{j}", f"b{j}") for i, j in
                 zip(rng.integers(0, 20, 25), rng.integers(0, 20, 25), strict=True) if i != j]
    questions += [("a0", "b0", "a1", "b2")]  # a wrong "answer": accuracy below 1
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)  # (45, 7)

    def nearest_but(target: np.ndarray, *excluded: int) -> str:
        scores = unit @ target  # (45,)
        scores[list(excluded)] = -np.inf
        return words[int(np.argmax(scores))]

    for a, c in rng.choice(40, size=(3, 2), replace=False):  # b - a + c is c when b is a
        questions.append((words[a], words[a], words[c], nearest_but(unit[c], a, c)))
    for a, b in rng.choice(40, size=(3, 2), replace=False):  # b - a + c is b when c is a
        questions.append((words[a], words[b], words[a], nearest_but(unit[b], a, b)))
    for k, (a, b) in enumerate(towards_a):  # b - a + c lands on a when c is 2a - b
        c = 40 + k
        target = unit[c] - (unit[a] - unit[b])  # b - a + c
        questions.append((words[a], words[b], words[c], nearest_but(target, a, b, c)))
    a, b, c = (word2ind[w] for w in ("n0", "n1", "n2"))
    target = unit[c] - (unit[a] - unit[b])  # b - a + c
    assert np.max(np.delete(unit @ target, [a, b, c])) < 0  # every answer below 0
    questions.append(("n0", "n1", "n2", nearest_but(target, a, b, c)))
    return (vectors, word2ind, questions), {}


# the student's part first, so that a wrong shape is blamed on it, not on given code
PLOT_CALLS = [
    call("project_2d", "four", out="projected", compare=False, inspect=require(
        "projected", lambda p: p.shape == (4, 2), "project_2d returned shape {shape} for 4 "
        "vectors; expected (4, 2): one row of 2 coordinates per vector")),
    call("plot_words", "vectors", "word2ind", ["w1", "w4", "w7", "w9"], "png",
         out="coordinates", writes="words.png")]
PLOT_INPUTS = inputs(vectors=normal(12, 6), word2ind={f"w{i}": i for i in range(12)},
                     four=derived(lambda d: d["vectors"][[1, 4, 7, 9]]),
                     png=scratch("words.png"))

SIMILARITY = Question(
    "similarity", "Cosine similarity, neighbours and WordSim-353", code="evaluate",
    checks=[calls_check("values", "cosines, neighbours and Spearman's rho", 2.0,
                        inputs(vectors=normal(40, 8), word2ind=WORD2IND,
                               pairs=draw(_word_pairs), word=integers(40),
                               k=integers(9, low=3), k_far=integers(39, low=30),
                               twin_word=integers(40, low=1), twins=derived(_twins),
                               many=normal(2000, 8), k_many=integers(350, low=250),
                               with_zero=derived(_with_a_zero_vector)),
                        SIMILARITY_CALLS, arrays="numpy")])

ANALOGY = Question(
    "analogy", "Analogies by 3CosAdd", code="evaluate",
    checks=[function_check("analogy_accuracy", _analogy_args,
                           title="3CosAdd accuracy on planted analogies", points=2.0,
                           outputs=("accuracy", "n_used"))])

PLOT = Question(
    "plot", "A 2-D projection of word vectors",
    checks=[calls_check("png", "a labelled 2-D projection saved as PNG", 1.0,
                        PLOT_INPUTS, PLOT_CALLS, arrays="numpy",
                        up_to_sign={"coordinates": ("coordinates",)}, timeout_s=60.0)])

QUESTIONS = [SIMILARITY, ANALOGY, PLOT]
