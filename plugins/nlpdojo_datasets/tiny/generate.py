"""How ``tiny.txt`` was made: a small probabilistic grammar with Penn Treebank tags.

The tiny corpus is *synthetic* - written by this project, not sampled from real text - so that
tests and first experiments can run in milliseconds with no download. Each line is one sentence
of ``word/TAG`` tokens. ``python -m nlpdojo_datasets.tiny.generate > tiny.txt`` regenerates the
shipped file byte for byte (``random.Random`` with a fixed seed is stable across Python 3
versions); a test checks that it does.
"""

from __future__ import annotations

import random

SEED = 224
N_SENTENCES = 400

_DET = [("the", "DT"), ("a", "DT"), ("every", "DT"), ("this", "DT")]
_ADJ = ["small", "old", "red", "quiet", "clever", "happy", "green", "tired", "young", "bright"]
_NOUN = [("cat", "cats"), ("dog", "dogs"), ("student", "students"), ("teacher", "teachers"),
         ("river", "rivers"), ("city", "cities"), ("model", "models"), ("robot", "robots"),
         ("bird", "birds"), ("child", "children"), ("farmer", "farmers"), ("book", "books"),
         ("garden", "gardens"), ("computer", "computers"), ("song", "songs")]
_VERB_T = [("sees", "VBZ"), ("likes", "VBZ"), ("follows", "VBZ"), ("reads", "VBZ"),
           ("trains", "VBZ"), ("finds", "VBZ"), ("saw", "VBD"), ("liked", "VBD"),
           ("followed", "VBD"), ("found", "VBD")]
_VERB_I = [("sleeps", "VBZ"), ("sings", "VBZ"), ("runs", "VBZ"), ("slept", "VBD"),
           ("sang", "VBD"), ("ran", "VBD")]
_PREP = ["near", "in", "behind", "with", "under"]
_ADV = ["quickly", "slowly", "today", "again", "happily"]
_NAME = ["Alice", "Bob", "Paris", "London", "Stanford"]


def _noun_phrase(rng: random.Random) -> list[tuple[str, str]]:
    if rng.random() < 0.15:
        return [(rng.choice(_NAME), "NNP")]
    det = rng.choice(_DET)
    adjs = [(rng.choice(_ADJ), "JJ") for _ in range(rng.choice([0, 0, 1, 1, 2]))]
    singular, plural = rng.choice(_NOUN)
    if det[0] == "the" and rng.random() < 0.3:
        return [det, *adjs, (plural, "NNS")]
    return [det, *adjs, (singular, "NN")]


def sentence(rng: random.Random) -> list[tuple[str, str]]:
    """One sentence: NP V [NP] [PP] [ADV] ."""
    words = _noun_phrase(rng)
    transitive = rng.random() < 0.7
    verb, tag = rng.choice(_VERB_T if transitive else _VERB_I)
    if words[-1][1] == "NNS" and tag == "VBZ":  # agreement: the cats see, the cat sees
        verb, tag = verb[:-1], "VBP"
    words += [(verb, tag), *(_noun_phrase(rng) if transitive else [])]
    if rng.random() < 0.4:
        words += [(rng.choice(_PREP), "IN"), *_noun_phrase(rng)]
    if rng.random() < 0.3:
        words += [(rng.choice(_ADV), "RB")]
    if words[0][1] != "NNP":
        words[0] = (words[0][0].capitalize(), words[0][1])
    return [*words, (".", ".")]


def generate(seed: int = SEED, n: int = N_SENTENCES) -> str:
    """The corpus text: ``n`` lines of ``word/TAG`` tokens, ending with a newline."""
    rng = random.Random(seed)
    lines = (" ".join(f"{w}/{t}" for w, t in sentence(rng)) for _ in range(n))
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(generate(), end="")
