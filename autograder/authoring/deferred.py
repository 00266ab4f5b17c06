"""A question's identity said once: a builder called inside a ``Question(...)`` without
``question=`` (and ``module=``) is completed by that question.

Every check belongs to a question (its id ``<question>.<name>``) and most run the code of that
question's one module. Written out at every builder call, an author repeated the question id
about ten times per question; declared in ``Question("lstm_cell", ..., code="library/gated",
checks=[layer_checks("LSTMCell", ...)])``, the builder takes both from the question: the id,
and the module of its ``code`` as the builders spell a module, relative to the topic's
package (``"..library.gated"`` for ``library/gated``, ``"vanishing"`` for a topic module).

A builder decorated with :func:`question_builder` called without ``question`` returns a
:class:`ForQuestion`; :class:`~.topic.Question` resolves it. Called with ``question=`` (a
helper that makes checks outside a question's declaration, a test), it builds at once.
"""

from __future__ import annotations

import functools
import inspect
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


def module_of(code: str) -> str:
    """A question's ``code`` (``"library/gated"``, ``"vanishing"``) as the builders' module
    path, relative to the topic's package (``"..library.gated"``, ``"vanishing"``)."""
    return ".." + code.replace("/", ".") if "/" in code else code


@dataclass(frozen=True)
class ForQuestion:
    """A builder's call waiting for its question (:func:`question_builder`)."""

    build: Callable[..., Any]
    args: tuple
    kwargs: dict[str, Any] = field(default_factory=dict)
    #: (file, line) of the call in the declaration: an error the builder raises when the
    #: question completes it is told there (``declared_at``, read by ``failure_site``)
    site: tuple[str, int] = ("", 0)
    #: what is done to each check once made (:func:`~.builders.points.with_hint` of a call
    #: waiting for its question)
    then: tuple[Callable[[Any], Any], ...] = ()

    @property
    def name(self) -> str:
        return self.build.__name__

    def resolve(self, question: str, code: tuple[str, ...]) -> list[Any]:
        """The checks of this call, made for ``question`` whose solution is in ``code``."""
        kwargs = {**self.kwargs, "question": question}
        if getattr(self.build, "takes_module", False) and kwargs.get("module") is None:
            if len(code) != 1:
                raise ValueError(
                    f"question {question}: {self.name}(...) needs the module it checks, and "
                    f"the question's code names {len(code)} modules "
                    f"({', '.join(code) or 'none'}); pass module=\"...\" to {self.name}")
            kwargs["module"] = module_of(code[0])
        try:
            made = self.build(*self.args, **kwargs)
        except Exception as exc:
            if self.site[0] and not hasattr(exc, "declared_at"):
                exc.declared_at = self.site  # type: ignore[attr-defined]
            raise
        made = list(made) if isinstance(made, (list, tuple)) else [made]
        for step in self.then:
            made = [step(check) for check in made]
        return made


def question_builder(builder: Callable[..., Any]) -> Callable[..., Any]:
    """``builder`` (which takes keyword arguments ``question`` and, where it runs a module's
    code, ``module``), deferred to its :class:`~.topic.Question` when called without
    ``question``."""

    takes_module = "module" in inspect.signature(builder).parameters

    @functools.wraps(builder)
    def build(*args: Any, **kwargs: Any) -> Any:
        if kwargs.get("question") is None:
            caller = sys._getframe(1)
            return ForQuestion(build, args, kwargs, (caller.f_code.co_filename, caller.f_lineno))
        if takes_module and kwargs.get("module") is None:
            raise TypeError(f"{builder.__name__}(question={kwargs['question']!r}, ...) outside "
                            "a question's declaration needs the module it checks: pass "
                            "module=\"...\" too (in a Question's checks, leave both out)")
        return builder(*args, **kwargs)

    build.takes_module = takes_module  # type: ignore[attr-defined]  # read by ForQuestion
    return build


def checks_of(question: str, code: tuple[str, ...], declared: Any) -> tuple[Any, ...]:
    """A question's declared ``checks`` as checks: each :class:`ForQuestion` resolved, each
    list a builder returned flattened (one level)."""
    made: list[Any] = []
    for item in declared:
        if isinstance(item, ForQuestion):
            made.extend(item.resolve(question, code))
        elif isinstance(item, (list, tuple)):
            made.extend(item)
        else:
            made.append(item)
    return tuple(made)
