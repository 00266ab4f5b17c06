"""``dojo new topic NAME``: a new topic that releases and grades at once.

It writes the two folders a topic is made of, and nothing else:

* ``solutions/NAME/``: the reference, what students get stubbed: ``__init__.py``, the
  instructions (``README.md``, which also opens the topic's notebook) and one module with one
  question (``scale.py``: a function and its solution block);
* ``course/NAME/``: how it is graded, a plugin found by the course as it is: ``__init__.py``
  (the :class:`~.Topic` and its ``register_exercises``) and
  ``questions.py`` (the question's declaration: a value check against the reference) and
  ``withheld/__init__.py`` (a planted bug that ``dojo verify`` proves the check catches, kept
  from a student's install since it quotes the reference: docs/authoring.md).

Then ``dojo release`` makes the student's ``exercises/NAME/`` and the fixtures, ``dojo verify
NAME --strict`` proves the stubs score 0, the reference full marks and the bug caught, and
``grade NAME`` grades. ``docs/authoring.md`` ("A topic: two folders, no central file") goes
on from there.
"""

from __future__ import annotations

import importlib.util
import json
import keyword
import re
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

from nlpdojo.errors import NlpdojoError

#: a topic's name: its folder in solutions/, course/ and exercises/, and its import name
NAME_RE = re.compile(r"[a-z][a-z0-9_]*")
#: names a topic cannot take (the course library's folder; the course package's own module)
RESERVED = ("library", "plugin")


class ScaffoldError(NlpdojoError):
    """The topic cannot be made (a bad name, a folder that exists)."""


@dataclass
class Scaffold:
    """What :func:`new_topic` wrote."""

    name: str
    solutions: Path
    course: Path
    files: list[Path] = field(default_factory=list)


def check_name(name: str) -> None:
    """A topic name is a lowercase Python identifier that is not a keyword, reserved, or the
    name of a module Python can import here (``exercises/numpy/``, where students run
    ``python`` and ``pytest``, would shadow NumPy for every topic)."""
    if keyword.iskeyword(name):
        raise ScaffoldError(f"{name!r} cannot name a topic: it is a Python keyword, and a "
                            "topic's name is imported; choose another name")
    if not NAME_RE.fullmatch(name):
        raise ScaffoldError(f"{name!r} cannot name a topic: use lowercase letters, digits and "
                            "underscores, starting with a letter (e.g. attention)")
    if name in RESERVED:
        raise ScaffoldError(f"{name!r} is reserved ({', '.join(RESERVED)}); choose another name")
    if name in sys.stdlib_module_names or _importable(name):
        raise ScaffoldError(f"{name!r} cannot name a topic: it is the name of a module Python "
                            f"imports here, and exercises/{name}/ would hide it from every "
                            "topic's code run there (choose another name)")


def _importable(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def new_topic(name: str, solutions_dir: Path, course_dir: Path, *, title: str | None = None,
              order: int = 100) -> Scaffold:
    """Write topic ``name``'s reference folder in ``solutions_dir`` and its grading folder in
    ``course_dir``; refuse (writing nothing) when either exists."""
    check_name(name)
    solutions, course = Path(solutions_dir) / name, Path(course_dir) / name
    for folder, what in ((solutions_dir, "solutions"), (course_dir, "course")):
        if not Path(folder).is_dir():
            raise ScaffoldError(f"{folder}: no such {what} folder")
    for folder in (solutions, course):
        if folder.exists():
            raise ScaffoldError(f"{folder} exists: topic {name!r} is taken; choose another "
                                "name or remove the folder")
    title = " ".join((title or name.replace("_", " ").capitalize()).split())
    values = {"name": name, "title": title, "order": order,
              "solutions_doc": _docstring(f"Topic ``{name}``: {title}."),
              "course_doc": _docstring(f"Topic ``{name}``: {title}. Its questions are declared "
                                       f"in :mod:`.questions`; the reference is "
                                       f"``solutions/{name}/``."),
              "title_literal": _string_literal(title, indent=20)}
    files = {solutions / "__init__.py": SOLUTIONS_INIT, solutions / "README.md": README,
             solutions / "scale.py": SCALE, course / "__init__.py": COURSE_INIT,
             course / "questions.py": QUESTIONS, course / "withheld" / "__init__.py": WITHHELD}
    scaffold = Scaffold(name, solutions, course)
    for path, template in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(template.format(**values), encoding="utf-8")
        scaffold.files.append(path)
    return scaffold


def _docstring(text: str) -> str:
    """``text`` as the body of a module docstring, wrapped to the style's line length (its first
    line follows the opening quotes); backslashes and quotes that would end it escaped."""
    text = text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    return textwrap.fill(text, width=LINE - 3, break_on_hyphens=False, break_long_words=False)


def _string_literal(text: str, *, indent: int) -> str:
    """``text`` as a Python string literal that keeps each line within the style's length at
    ``indent`` columns: one literal, or several in parentheses joined by the parser."""
    room = LINE - indent - 4
    chunks = textwrap.wrap(text, width=room, drop_whitespace=False, break_on_hyphens=False,
                           break_long_words=False) or [""]
    literals = [json.dumps(c, ensure_ascii=False) for c in chunks]
    if len(literals) == 1:
        return literals[0]
    return "(" + ("\n" + " " * (indent + 1)).join(literals) + ")"


#: the style's line length (pyproject's ruff setting)
LINE = 100

SOLUTIONS_INIT = '''"""{solutions_doc}"""
'''

README = '''# {title}

*topic id `{name}`*

Replace this with the topic's instructions: what the lecture says, what to derive on paper,
and what each question asks. The notebook of the topic opens with this text.

## Questions

1. **`scale`**: `scale(x, k)` returns `x * k` elementwise, for an array of the backend.
'''

SCALE = '''"""A first question of topic ``{name}``: replace it with the topic's own."""

from __future__ import annotations

from array_api_compat import array_namespace

from nlpdojo.backend import Array


def scale(x: Array, k: float) -> Array:
    """``x * k`` elementwise, for an array ``x`` of any shape."""
    xp = array_namespace(x)
    ### BEGIN SOLUTION scale
    return xp.multiply(x, k)
    ### END SOLUTION
'''

COURSE_INIT = '''"""{course_doc}"""

from __future__ import annotations

from pathlib import Path

from nlpdojo.hookspecs import hookimpl
from nlpdojo_autograder.authoring import Topic

from . import questions

TOPIC = Topic(name="{name}",
              title={title_literal},
              order={order}, questions=questions.QUESTIONS,
              fixtures=Path(__file__).parent / "fixtures",
              withheld=f"{{__name__}}.withheld")


@hookimpl
def register_exercises(register):
    register(TOPIC.name, TOPIC.exercise())
'''

QUESTIONS = '''"""The questions of topic ``{name}``, one declaration each: its checks and the module
its solution block is in (the bugs ``dojo verify`` plants to prove the checks catch them:
:mod:`.withheld`)."""

from __future__ import annotations

from nlpdojo_autograder.authoring import Question, function_check
from nlpdojo_autograder.authoring.inputs import inputs, normal, uniform

SCALE = Question(
    "scale", "Scale an array",  # its code: scale.py, by default the question's name
    checks=[function_check("scale", inputs(x=normal(4, 3), k=uniform(0.5, 2.0)),
                           title="scale on random arrays", points=1.0, outputs=("scaled",))])

QUESTIONS = [SCALE]
'''

WITHHELD = '''"""The planted bugs of topic ``{name}``, which ``dojo verify`` plants to prove the
checks catch them: each quotes the reference, so a student's install goes without this
package (the student bundle's wheel leaves it out)."""

from __future__ import annotations

from nlpdojo_autograder.authoring import bug

# each bug costs points on the question whose solution block its text lies in; its change
# is written in place, «old → new» (docs/authoring.md, "What release validates")
BUGS = [
    bug("scale adds instead of multiplying", "return «xp.multiply → xp.add»(x, k)"),
]
'''
