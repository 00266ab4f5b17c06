"""Topic ``attention`` (CS224n lecture 8): attention pooling in the course library, an RNN
encoder pooled by it, and a classifier trained on MR by the given loop. The reference is
``solutions/attention/`` and the library file ``solutions/library/attention.py``."""

from __future__ import annotations

from pathlib import Path

from nlpdojo.hookspecs import hookimpl
from nlpdojo_autograder.authoring import Topic

from . import questions

TOPIC = Topic(name="attention",
              title="Attention: pooling a sentence's states by what they score",
              order=8, questions=questions.QUESTIONS,
              fixtures=Path(__file__).parent / "fixtures",
              withheld=f"{__name__}.withheld",
              given_modules=("polarity_training",))


@hookimpl
def register_exercises(register):
    register(TOPIC.name, TOPIC.exercise())
