"""Registers the first-party data sets (see ``docs/data.md``)."""

from __future__ import annotations

from nlpdojo.hookspecs import Register, hookimpl


@hookimpl
def register_datasets(register: Register) -> None:
    """Word-vector evaluation sets, LM corpora, sentence polarity, POS-tagged text, Brown, tiny."""
    from nlpdojo_datasets.analogy import GoogleAnalogies
    from nlpdojo_datasets.brown import Brown
    from nlpdojo_datasets.mr import MRPolarity
    from nlpdojo_datasets.reviews import PangLeeReviews
    from nlpdojo_datasets.similarity import SimLex999, WordSim353
    from nlpdojo_datasets.sotu import StateOfTheUnion
    from nlpdojo_datasets.tagged import OANCTagged, WSJTagged
    from nlpdojo_datasets.tiny.dataset import Tiny

    for cls in (WordSim353, SimLex999, GoogleAnalogies, PangLeeReviews, StateOfTheUnion,
                MRPolarity, WSJTagged, OANCTagged, Brown, Tiny):
        dataset = cls()
        register(dataset.name, dataset, license=dataset.license)
