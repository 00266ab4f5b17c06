"""Failure messages clustered by their pattern, for a cohort (issue 14, item 4).

The grader's messages carry numbers, shapes, indices and values that differ from one student
to the next ("worst at [4, 2]: yours 0.00279, numerical 0.0014", "shape (10, 5) instead of
(5, 10)"). What an instructor wants to read is the *pattern*: "naive_softmax: transposed
gradient, 31 students". A failure is reduced to

* its **diagnosis**: for a gradient check, the diagnosis the gradient checker made for each
  failing parameter (``details["gradients"][i]["diagnosis"]``, :mod:`nlpdojo.gradcheck.diagnosis`);
  for a value check, the pattern :mod:`nlpdojo_autograder.authoring.compare` appends after the last
  ``"; "`` ("yours is twice the expected one") or the message's first line; for an error,
  a timeout or an untouched stub, the first line of the message; each then
  :func:`normalize_pattern`-ed;
* its **kind**: a word for the family of mistakes the diagnosis names (``transposed``,
  ``factor``, ``sign``, ``shape``, ``nan``, ``zeros``, ``dtype``, ``in place``...), found by
  the phrases the grader writes; ``None`` when no family is recognised.

Failures are grouped by ``(exercise, question, kind or diagnosis)``: the value checks that
find a transposed shape and the gradient check that finds a transposed gradient on the same
question are one line, with every check and every distinct diagnosis listed under it, and the
submissions that hit it (each counted once).

A check that knows the mistake made names it (``details["mistake"]``, a builder's
``mistakes=``: "a backward that leaves out the path from h to c"). That name is the cluster:
every failure of the same submission on the same question goes under it (one mistake fails
the values, the gradient, the torch and the accumulation checks, each in words of its own),
kind :data:`NAMED`, diagnosis the mistake.
"""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

from nlpdojo_autograder.authoring.checks import NAMED_MISTAKE

# 'quoted' or "quoted" values (a student's identifiers, strings their code returned)
_QUOTED = re.compile(r"'[^'\n]{0,200}'|\"[^\"\n]{0,200}\"")
# a shape or an index: (5, 10), (5,), [4, 2], [3]: numbers only, inside brackets
_TUPLE = re.compile(r"\(\s*-?\d+\s*(?:,\s*-?\d+\s*)*,?\s*\)")
_INDEX = re.compile(r"\[\s*-?\d+\s*(?:,\s*-?\d+\s*)*\]")
# a number standing alone (not part of an identifier such as float64 or W1): 3, -0.25, 1e-05
_NUMBER = re.compile(r"(?<![\w.])[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?(?!\w)")
_LINE_NO = re.compile(r"\bline #")

#: (kind, phrases): the first kind one of whose phrases the diagnosis contains, in this order
KINDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("not implemented", ("not implemented yet",)),
    ("timeout", ("took longer than", "was stopped")),
    ("transposed", ("transposed",)),
    ("nan", ("nan or inf", "nan/inf", "became nan")),
    ("zeros", ("all zeros",)),
    ("in place", ("in place",)),
    ("sign", ("opposite sign", "the sign", "negated")),
    ("factor", ("twice the", "half the", "times the", "of the expected one", "of the true one")),
    ("shape", ("has shape", "shape (", "extra leading axis")),
    ("dtype", ("dtype",)),
    ("strict namespace", ("array api", "xp = array_namespace", "array_namespace")),
    ("some rows", ("some rows", "rows are wrong", "columns are wrong", "entries are wrong")),
    ("wrong order", ("wrong order",)),
    ("loss", ("your loss differs", "the loss itself")),
)


#: the diagnosis of a check whose code is an untouched stub
NOT_STARTED = "not implemented yet"
#: the kind of a cluster whose failures a check named as a known mistake
NAMED = "named mistake"


def normalize_pattern(text: str) -> str:
    """``text`` with quoted values, shapes, indices and numbers replaced by placeholders and
    whitespace collapsed: ``'x'`` -> ``'…'``, ``(5, 10)`` -> ``(…)``, ``[4, 2]`` -> ``[…]``,
    ``0.31`` -> ``#``. Identifiers keep their digits (``float64``, ``W1``)."""
    text = _QUOTED.sub("'…'", text)
    text = _TUPLE.sub("(…)", text)
    text = _INDEX.sub("[…]", text)
    text = _NUMBER.sub("#", text)
    text = _LINE_NO.sub("line #", text)
    return " ".join(text.split())


def kind_of(diagnosis: str) -> str | None:
    """The family of mistakes ``diagnosis`` names (see :data:`KINDS`), or ``None``."""
    low = diagnosis.lower()
    for kind, phrases in KINDS:
        if any(p in low for p in phrases):
            return kind
    return None


def diagnoses(check: Any) -> list[str]:
    """The normalised diagnoses of one failed check (a :class:`CheckResult`): one per failing
    parameter of a gradient check, else one."""
    message = check.message or ""
    first = message.strip().splitlines()[0] if message.strip() else check.status
    if check.status != "failed":
        if check.status == "not_implemented":
            return [NOT_STARTED]
        return [normalize_pattern(_error_head(first))]
    found = []
    for grad in (check.details or {}).get("gradients") or []:
        if isinstance(grad, dict) and not grad.get("passed", True) and grad.get("diagnosis"):
            found.append(normalize_pattern(f"dL/d{grad.get('name', '?')}: {grad['diagnosis']}"))
    if found:
        return list(dict.fromkeys(found))
    if check.kind == "value" and "; " in first:
        head, _, pattern = first.rpartition("; ")
        if pattern.startswith(("yours", "your")):
            name = head.split(":", 1)[0] if ":" in head else ""
            return [normalize_pattern(f"{name}: {pattern}" if name else pattern)]
    return [normalize_pattern(first)]


def _error_head(line: str) -> str:
    """An error's first line without the student's file and line (``... (softmax.py line
    12)``): the exception and its message are the pattern."""
    # its line of code may hold parentheses of its own: `(at softmax.py line 12: loss =
    # -xp.log(p[i]))`, and `, called from ...` may follow; everything to the line's end goes
    return re.sub(r"\s*\(at [^\s()]+ line \d+(?:[:,].*)?\)\s*$", "", line)


def cluster_failures(results: dict[str, Any]) -> list[dict[str, Any]]:
    """The failures of a cohort (``{submission name: GradingResult}``) grouped by
    ``(exercise, question, kind or diagnosis)``, most students first. Each cluster:
    ``exercise``, ``question``, ``kind`` (or ``null``), ``diagnosis`` (the commonest
    normalised diagnosis), ``count`` (distinct submissions), ``submissions`` (their names,
    sorted), ``checks`` (``{check id: submissions that failed it}``), ``patterns``
    (``[{"diagnosis", "count"}]``, every distinct diagnosis) and ``example`` (one original
    message)."""
    clusters: dict[tuple[str, str, str], dict[str, Any]] = {}

    def add(key: tuple[str, str, str], kind: str | None, name: str, check: Any,
            diag: str, example: Any) -> None:
        row = clusters.setdefault(key, {
            "exercise": key[0], "question": key[1], "kind": kind, "submissions": set(),
            "checks": {}, "patterns": {}, "example": example.message or example.status})
        row["submissions"].add(name)
        row["checks"].setdefault(check.id, set()).add(name)
        row["patterns"].setdefault(diag, set()).add(name)

    for name in sorted(results):
        failed: dict[tuple[str, str], list[Any]] = defaultdict(list)
        for ex, check in results[name].checks():
            if not check.passed:
                failed[(ex.name, check.question)].append(check)
        for (exercise, question), checks in failed.items():
            named = [c for c in checks if (c.details or {}).get(NAMED_MISTAKE)]
            for check in checks:
                if named:  # the mistake explains every failure of the question
                    by = check if check in named else named[0]
                    mistake = str(by.details[NAMED_MISTAKE])
                    add((exercise, question, f"{NAMED}: {mistake}"), NAMED, name, check,
                        mistake, by)
                    continue
                for diag in diagnoses(check):
                    kind = kind_of(diag)
                    add((exercise, question, kind or diag), kind, name, check, diag, check)
    out = []
    for row in clusters.values():
        patterns = sorted(row["patterns"].items(), key=lambda kv: (-len(kv[1]), kv[0]))
        out.append({
            "exercise": row["exercise"], "question": row["question"], "kind": row["kind"],
            "diagnosis": patterns[0][0],
            "count": len(row["submissions"]),
            "submissions": sorted(row["submissions"]),
            "checks": {cid: len(names) for cid, names in sorted(row["checks"].items())},
            "patterns": [{"diagnosis": d, "count": len(n)} for d, n in patterns],
            "example": row["example"],
        })
    # mistakes before work not started (an unwritten stub is no bug to teach from: ten "not
    # implemented" rows buried the one real one); then most students first, then a
    # recognised kind before a bare diagnosis
    out.sort(key=lambda c: (c["diagnosis"] == NOT_STARTED, -c["count"], c["exercise"],
                            c["question"], c["kind"] is None, c["kind"] or "", c["diagnosis"]))
    return out


def cluster_title(cluster: dict[str, Any]) -> str:
    """One line: ``naive_softmax: transposed (your gradient equals ...) — 2 students``."""
    what = (f"{cluster['kind']} ({cluster['diagnosis']})" if cluster["kind"]
            else cluster["diagnosis"])
    n = cluster["count"]
    return f"{cluster['question']}: {what} — {n} student{'s' if n != 1 else ''}"
