"""Call-backs from the student's worker: what one check lets it ask of the reference, and what a
request must be before the reference process runs it.

A check swaps the reference in for the questions its question builds on ("no double charge"):
the student's code then calls proxies, and each call goes, as a ``reference`` request of data
chosen by the student's code, to the reference process (:class:`~.remote.ReferenceProcess`,
:class:`~.worker.ReferenceWorker`) over the pipes that join it to the student's worker. The
grader runs none of it and turns none of it into objects. The reference process reads the
request as data (the channel's codec: no pickle), refuses what this check does not allow
(:meth:`SwapScope.refusal`, with a message for the student; the grader sends it the check's
scope), runs the rest and sends the reply, data again, back to the worker.

What a check allows (:class:`SwapScope`), from the solutions' markers (``question_functions``):

* the functions and methods of the swapped-in questions, and the public helpers of their
  modules that belong to no question (a stand-in module offers them);
* as objects, only the classes of swapped-in questions: the swapped method's own class (its
  ``self``) and the sub-layers it holds (an RNN's cell), named by module and exact qualname;
* nothing that belongs to a question not swapped in, above all the question under test: the
  reference process is told to block that code too (:class:`~.subject.Fence`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from nlpdojo_autograder.runtime.channel import DTYPES, Token
from nlpdojo_autograder.runtime.objects import StateError, named_classes
from nlpdojo_autograder.runtime.probes import stand_in_class

QuestionFunctions = dict[str, list[tuple[str, str | None]]]

#: what one call-back may cost before a check's time limit is at risk. Each is a round trip
#: from the worker to the reference process and back (through the grader, before: 1.1 ms at a
#: load of 6, 3.8 ms at 7 beside other gradings, 7 ms at 8 when it answered them itself, on 2
#: cores). ``dojo verify``'s baseline fails a check whose call-backs at this
#: cost exceed its limit (a verdict must not depend on how busy the grading machine is), which
#: holds its limits up to a load of about 15
CALLBACK_BUDGET_S = 0.010

#: what a swapped-in reference may send back for one call-back (the reference process refuses
#: to send more, and says so): a layer's output and state; far above what the course's checks
#: need (5 MB at most in a grading of every topic: 38,596 call-backs), far below what a
#: student's arguments could make it return (11,000 x 11,000 from a Linear of zero inputs)
MAX_REFERENCE_REPLY_BYTES = 256 * 2**20


@dataclass(frozen=True)
class SwapScope:
    """What the student's worker may call back for during one check.

    ``functions``: ``(module, name)`` -> the question it stands in for (``""``: a helper of a
    swapped-in question's module that belongs to no question). ``classes``: the classes an
    object may be rebuilt as. ``owners``: every question's class -> its question(s), for
    messages. ``blocked``: ``(module, name, question)`` of every function and method of a
    question that is not swapped in, which the reference process must never run."""

    swap_in: tuple[str, ...] = ()
    functions: dict[tuple[str, str], str] = field(default_factory=dict)
    classes: frozenset[tuple[str, str]] = frozenset()
    owners: dict[tuple[str, str], str] = field(default_factory=dict)
    blocked: tuple[tuple[str, str, str], ...] = ()

    @classmethod
    def of(cls, swap_in: Iterable[str], qf: QuestionFunctions,
           reference_names: dict[str, list[str]],
           withheld: Iterable[tuple[str, str]] = ()) -> SwapScope:
        """``withheld``: functions of the swapped-in questions that stay the student's own
        (the reference of the question under test never reaches them): refused and blocked
        as a question's that is not swapped in."""
        swapped = set(swap_in)
        kept_back = {tuple(pair) for pair in withheld}
        function_owners: dict[tuple[str, str], set[str]] = defaultdict(set)
        class_owners: dict[tuple[str, str], set[str]] = defaultdict(set)
        for question, pairs in qf.items():
            for module, name in pairs:
                if not name:
                    continue
                function_owners[(module, name)].add(question)
                if "." in name:
                    class_owners[(module, name.rsplit(".", 1)[0])].add(question)
        # a name shared with a question not swapped in is that question's code too: refused
        functions = {key: min(owners) for key, owners in function_owners.items()
                     if owners <= swapped and key not in kept_back}
        for question in sorted(swapped):
            for module, _ in qf.get(question, []):
                for name in reference_names.get(module, []):
                    if (module, name) not in function_owners:
                        functions.setdefault((module, name), "")
        return cls(
            swap_in=tuple(sorted(swapped)), functions=functions,
            classes=frozenset(c for c, owners in class_owners.items() if owners <= swapped),
            owners={c: ", ".join(sorted(owners)) for c, owners in class_owners.items()},
            blocked=tuple(sorted((m, n, min(owners - swapped or owners))
                                 for (m, n), owners in function_owners.items()
                                 if not owners <= swapped or (m, n) in kept_back)))

    def question_of(self, module: str, name: str) -> str:
        """The question ``module.name`` stands in for (``""`` for a helper or unknown)."""
        return self.functions.get((module, name), "")

    def refusal(self, request: dict[str, Any]) -> str | None:
        """Why the request cannot be forwarded (a message for the student), or None."""
        module, name = request.get("module"), request.get("name")
        args, kwargs = request.get("args"), request.get("kwargs")
        if not isinstance(module, str) or not isinstance(name, str) or \
                (module, name) not in self.functions:
            return f"{_text(module)}.{_text(name)} is not swapped in for this check"
        if not isinstance(args, tuple) or not isinstance(kwargs, dict):
            return f"the call of {name}() did not arrive as arguments"
        if "." in name:  # a method: its object first
            why = self._instance_refusal(module, name, args[0] if args else None)
            if why is not None:
                return why
            args = args[1:]
        bad = _foreign_token(args) or _foreign_token(kwargs)
        if bad is not None:
            return (f"{bad} cannot be passed to the reference {name}(): only arrays, numbers, "
                    "strings and lists, tuples and dicts of them can")
        return None

    def _instance_refusal(self, module: str, name: str, instance: Any) -> str | None:
        """Why the object sent with a swapped method cannot be handed to the reference."""
        owner = name.rsplit(".", 1)[0]
        if not (isinstance(instance, Token) and instance.kind == "object"
                and len(instance.args) == 3):
            return f"{name}() was called without the object it belongs to"
        named_module, named_class, state = instance.args
        if (named_module, named_class) != (module, owner) or not isinstance(state, dict):
            return f"the object sent with {name}() is not a {owner}"
        bad = _foreign_token(state)
        if bad is not None:
            return f"your {owner} holds {bad}, which cannot be handed to the reference {name}()"
        try:
            for where, sub_module, sub_class in named_classes(state):
                why = self._class_refusal(where, sub_module, sub_class, name)
                if why is not None:
                    return why
        except StateError as exc:
            return f"your {owner} could not be read ({exc})"
        return None

    def _class_refusal(self, where: str, module: str, qualname: str, name: str
                       ) -> str | None:
        if (module, qualname) in self.classes or stand_in_class(module, qualname) is not None:
            return None  # a layer of a swapped-in question, or the grader's stand-in cell
        shown = f"a {qualname[:200]} ({module.lstrip('.').replace('.', '/')[:200]}.py)"
        question = self.owners.get((module, qualname))
        whose = (f"the layer of question {question}, which is not swapped in for this check"
                 if question else "not a layer of any question swapped in for this check")
        return (f"{where} holds {shown}, {whose}. The reference {name}() runs only on layers "
                "of the questions it stands in for (what your question builds on); give it "
                "your own layers of those, with parameters, arrays and numbers as attributes")


def _foreign_token(value: Any) -> str | None:
    """What in ``value`` is not data the reference may be given (an array, the backend), or
    None: functions, modules, files, calls, objects outside a method's ``self``."""
    if isinstance(value, Token):
        if value.kind == "backend" and value.args == ():
            return None
        if value.kind == "array" and len(value.args) == 2 and \
                isinstance(value.args[0], np.ndarray) and \
                (value.args[1] is None or value.args[1] in DTYPES):
            return None
        return f"a {_text(value.kind)} token" if value.kind != "object" else \
            "an object other than the layer whose method is swapped in"
    if isinstance(value, (list, tuple)):
        return next((bad for v in value if (bad := _foreign_token(v)) is not None), None)
    if isinstance(value, dict):
        return next((bad for v in value.values() if (bad := _foreign_token(v)) is not None),
                    None)
    return None


def reply_problem(reply: Any) -> str | None:
    """What is wrong with a reply of the reference process, or None (it is data already: the
    channel refuses tokens and pickles from it)."""
    if not isinstance(reply, dict) or ("value" in reply) == ("error" in reply):
        return "an invalid reply"
    if "error" in reply:
        return None if isinstance(reply["error"], dict) else "an invalid error"
    if not isinstance(reply.get("updated", {}), dict) or \
            not isinstance(reply.get("objects", {}), dict):
        return "an invalid reply"
    return None


def forwarded(reply: dict[str, Any]) -> dict[str, Any]:
    """The reply the student's worker gets: the result, the arrays changed in place and the
    object's state after the call; or the reference's error message."""
    if "error" in reply:
        message = reply["error"].get("message", "")
        return {"error": message if isinstance(message, str) else "it failed"}
    return {"value": reply["value"], "updated": reply.get("updated", {}),
            "objects": reply.get("objects", {})}


def _text(value: Any) -> str:
    return value[:200] if isinstance(value, str) else type(value).__name__
