"""Each check's seed (``Check.seed``): public at a student release's base 0, and at any other
base (a fresh input seed in CI) no check's seed tells another's. They were ``base + crc32(id)``,
so a seed handed to code under test (a sampler's) gave the run's input seed and with it the
inputs of every hidden check, which a later check could have had a swapped-in reference
answer in advance."""

from __future__ import annotations

import zlib

from nlpdojo.plugins import get_registry


def _checks():
    exercise = get_registry().get("exercise", "language_models")
    return exercise.check("sampling.frequencies"), exercise.check("sampling.values")


def test_a_release_keeps_the_seeds_its_fixtures_were_drawn_with():
    for check in _checks():
        assert check.seed(0) == zlib.crc32(check.id.encode()) % 2**31


def test_one_checks_seed_tells_nothing_of_anothers_or_of_the_input_seed():
    a, b = _checks()
    gaps = {(a.seed(base) - b.seed(base)) % 2**31 for base in range(1, 50)}
    assert len(gaps) == 49  # a fixed gap would give every seed from one
    assert all(a.seed(base) - base != a.seed(0) for base in range(1, 50))
    assert all(0 <= a.seed(base) < 2**31 for base in (1, 2**31, 2**52))


def test_a_training_run_is_handed_a_hash_of_the_input_seed_never_the_seed():
    """An attacker's model raised with the seed its training was handed: it was the run's
    input seed, from which the grader's public hash gives every later check's seed and the
    held-out sample. Training is now handed ``training_seed``: a hash of it (0 stays 0, a
    student release's public seed)."""
    import re
    from pathlib import Path
    from types import SimpleNamespace

    from nlpdojo_autograder.training import training_seed

    seeds = {training_seed(SimpleNamespace(input_seed=s)) for s in (1, 2, 1613189647755743)}
    assert len(seeds) == 3 and all(0 <= s < 2**31 for s in seeds)
    assert not seeds & {1, 2, 1613189647755743}
    assert training_seed(SimpleNamespace(input_seed=0)) == 0
    # no grading code hands the input seed itself to code under test as a seed
    root = Path(__file__).resolve().parents[2]
    handed = [f"{p.relative_to(root)}:{n}" for folder in ("autograder", "course")
              for p in (root / folder).rglob("*.py")
              for n, line in enumerate(p.read_text().splitlines(), 1)
              if re.search(r"seed\s*=\s*ctx\.input_seed\b", line)]
    assert not handed, handed
