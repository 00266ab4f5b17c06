"""nlpdojo autograder: checks, isolated runner, reports, and the ``grade`` command.

One deliberate exception to "no side effects at import" (docs/security.md, "the grader's import
path"): ``python -m nlpdojo_autograder...`` puts the working folder first on the import path,
and grading is often run from a student's checkout or a folder of submissions, where a folder
named ``nlpdojo`` or ``numpy`` would be imported as the grader's own. While ``-m`` is still
locating its module (``sys.argv[0] == "-m"``, before anything but this package and the
standard library's start-up modules is imported), that entry is taken off the path. What was
resolved before this line runs is not covered: this package itself (a folder named
``nlpdojo_autograder`` in the working folder is run instead of it) and the start-up modules.
Run ``grade`` (the console script) or ``python -P -m ...``, as every process the grader starts
does.
"""

import os
import sys
from importlib.util import find_spec


def _guard_import_path() -> None:
    if sys.argv[:1] != ["-m"] or sys.flags.safe_path or not sys.path:
        return
    try:
        here = os.getcwd()
    except OSError:
        return
    if sys.path[0] not in ("", here) and os.path.realpath(sys.path[0]) != os.path.realpath(here):
        return
    del sys.path[0]
    shadowing = _shadowing(here)
    if shadowing:
        sys.stderr.write(
            f"note: {here} holds {', '.join(shadowing)}, named like modules the grader may "
            "import; the folder was taken off the import path (run `grade`, or `python -P -m "
            "nlpdojo_autograder...`, to keep it off from the start)\n")


def _shadowing(folder: str) -> list[str]:
    """The packages and modules in ``folder`` named like one importable from elsewhere."""
    found = []
    try:
        entries = list(os.scandir(folder))[:10_000]
    except OSError:
        return []
    for entry in entries:
        name, _, suffix = entry.name.partition(".")
        if not name.isidentifier() or not (
                (suffix == "" and os.path.isfile(os.path.join(entry.path, "__init__.py")))
                or suffix == "py"):
            continue
        if name in sys.stdlib_module_names or find_spec(name) is not None:
            found.append(entry.name)
    return sorted(found)[:5]


_guard_import_path()
