"""The grader's modules in a worker, frozen before any code under test runs.

The code rules (:mod:`.code_rules`) keep graded code from naming the interpreter's module table
or the grader's packages, but a public function of an allowed library may still hand it a
module by name (a plotting backend loaded from a ``module://`` name returns the module it
imported). Rebinding a name of such a module (``probes.python_lines = ...``) would change what
the worker's line counter runs. So once the worker is set up, every module of the grader, the
framework and the course's plugins becomes a :class:`FrozenModule`: an attribute it holds can
no longer be rebound or deleted from outside. The module's own code is unaffected (a ``global``
statement writes its namespace directly), and so is the import system, which only adds the
names of submodules imported later. The submission's own package is never frozen.
"""

from __future__ import annotations

import sys
import types
from typing import Any

#: the packages frozen in a worker: the grader's, the framework's and the plugins'
FROZEN_PREFIX = "nlpdojo"
#: the submission's package (never frozen: it is the student's own)
SUBMISSION_PREFIX = "nlpdojo_submission"


#: the namespace of a module as ``ModuleType`` gives it (the real dictionary)
_NAMESPACE = types.ModuleType.__dict__["__dict__"]


class FrozenModule(types.ModuleType):
    """A module whose existing attributes cannot be rebound or deleted by ``setattr``, nor its
    double-underscore ones set (``__class__``: it stays frozen), and whose ``__dict__`` reads
    as a read-only view (a library that updates an object's ``__dict__``,
    ``functools.update_wrapper``, cannot write through it). Its functions keep their own
    namespace, the real one."""

    @property
    def __dict__(self) -> Any:  # type: ignore[override]
        return types.MappingProxyType(_NAMESPACE.__get__(self, type(self)))

    def __setattr__(self, name: str, value: Any) -> None:
        if name.startswith("__") or (name in self.__dict__ and self.__dict__[name] is not value):
            raise AttributeError(f"{self.__name__}.{name} belongs to the grader: graded code may "
                                 "not change it")
        super().__setattr__(name, value)

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{self.__name__}.{name} belongs to the grader: graded code may "
                             "not delete it")


def freeze_grader_modules() -> int:
    """Freeze every loaded module of the grader, the framework and the plugins (not the
    submission's); the number frozen."""
    frozen = 0
    for name, module in list(sys.modules.items()):
        if (name.startswith(FROZEN_PREFIX) and not name.startswith(SUBMISSION_PREFIX)
                and type(module) is types.ModuleType):
            module.__class__ = FrozenModule
            frozen += 1
    return frozen
