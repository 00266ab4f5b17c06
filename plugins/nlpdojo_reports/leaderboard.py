"""The held-out leaderboard: one source for Gradescope's ``leaderboard`` and the cohort's.

:func:`metric_entries` reads a result's leaderboard entries (each visible metric check that
measured a finite value, with its direction); :mod:`.gradescope` writes them as they are, and
:func:`cohort_leaderboard` ranks a cohort on them. A student appears under an anonymous alias
(:func:`alias`: an HMAC of the submission's name with the course's secret, as adjective-animal
and a number), stable across runs with the same secret; without the secret nobody can tell
whose alias is whose, and each student is told their own alias only (``<name>/leaderboard.json``
beside their result).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import os
import secrets
from pathlib import Path
from typing import Any

from platformdirs import user_config_path

from nlpdojo_autograder.grading.results import CheckResult, GradingResult
from nlpdojo_reports.writer import atomic_write_text

#: metric names where lower is better (a check that does not say: ``details["higher_is_better"]``)
LOWER_IS_BETTER = ("perplexity", "loss", "error", "time")
#: the course's secret for the aliases: this variable, else a file made once (0600)
SECRET_ENV = "NLPDOJO_LEADERBOARD_SECRET"
SECRET_FILE = "leaderboard-secret"
#: switches the cohort's leaderboard on or off where ``grade`` is not told (before the course
#: configuration's ``leaderboard``)
LEADERBOARD_ENV = "NLPDOJO_LEADERBOARD"
#: each student's own entry, beside their result in a cohort's output folder
LEADERBOARD_NAME = "leaderboard.json"

ADJECTIVES = ("amber", "brave", "calm", "deft", "eager", "fuzzy", "gentle", "hardy", "icy",
              "jolly", "keen", "lucid", "mellow", "nimble", "odd", "plucky", "quiet", "rapid",
              "sunny", "tidy", "upbeat", "vivid", "witty", "young", "zesty", "bold", "crisp",
              "dapper", "early", "frank", "glad", "humble")
ANIMALS = ("aardvark", "badger", "camel", "dingo", "egret", "ferret", "gecko", "heron", "ibis",
           "jackal", "koala", "lemur", "marmot", "newt", "otter", "panda", "quail", "raven",
           "salmon", "tapir", "urchin", "vole", "walrus", "yak", "zebra", "bison", "crane",
           "dugong", "eland", "finch", "gibbon", "hare")


def lower_is_better(check: CheckResult) -> bool:
    """``details["higher_is_better"]`` if the check says; else guessed from its id."""
    flag = check.details.get("higher_is_better")
    if isinstance(flag, bool):
        return not flag
    return any(word in check.id.lower() for word in LOWER_IS_BETTER)


def ranked_value(check: Any) -> float | None:
    """The value a board ranks of a metric check: a finite value of a check that **passed**.
    A failed one measured something too (a training the audit rejected, parameters trained
    elsewhere, a value past the too-good bound): it earned no point and earns no rank."""
    if check.value is None or not check.passed or not math.isfinite(check.value):
        return None
    # to 4 significant digits: a training the audit holds to the reference's trajectory gives
    # the reference's value up to rounding, and float noise would rank honest students apart
    return float(f"{float(check.value):.4g}")


def metric_entries(result: GradingResult) -> list[dict[str, Any]]:
    """``[{"name", "value", "order"?}]``: each visible metric check that passed with a finite
    value (:func:`ranked_value`), ``"order": "asc"`` where lower is better (Gradescope's
    leaderboard format)."""
    board = []
    for _, check in result.checks():
        if check.kind != "metric" or check.hidden or ranked_value(check) is None:
            continue
        entry: dict[str, Any] = {"name": check.title or check.id,
                                 "value": ranked_value(check)}
        if lower_is_better(check):
            entry["order"] = "asc"
        board.append(entry)
    return board


def metric_checks(result: GradingResult) -> dict[str, tuple[str, bool]]:
    """``{check id: (shown name, lower is better)}`` of the visible metric checks of a result,
    measured or not."""
    return {c.id: (c.title or c.id, lower_is_better(c)) for _, c in result.checks()
            if c.kind == "metric" and not c.hidden}


def course_secret() -> bytes:
    """``$NLPDOJO_LEADERBOARD_SECRET``, else a random secret kept in the user's configuration
    folder (made once, readable by its owner only): the same aliases on every run."""
    given = os.environ.get(SECRET_ENV)
    if given:
        return given.encode()
    path = Path(user_config_path("nlpdojo", appauthor=False)) / SECRET_FILE
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_hex(32) + "\n")
    return path.read_text().strip().encode()


def alias(student: str, secret: bytes) -> str:
    """``adjective-animal-NN`` from an HMAC-SHA256 of ``student`` with ``secret``: stable for a
    secret, unguessable without it (32 x 32 x 10,000 aliases)."""
    digest = hmac.new(secret, student.encode("utf-8", "surrogateescape"),
                      hashlib.sha256).digest()
    n = int.from_bytes(digest[:8], "big")
    return (f"{ADJECTIVES[n % len(ADJECTIVES)]}-{ANIMALS[(n >> 8) % len(ANIMALS)]}-"
            f"{(n >> 16) % 10000:04d}")


def cohort_leaderboard(results: dict[str, GradingResult], secret: bytes) -> dict[str, Any]:
    """The cohort's boards, one per metric check: ``{"metrics": [{"id", "name", "order",
    "ranked": [{"rank", "alias", "value"}], "missing": n}], "aliases": {name: alias}}``.

    Ranked best first in the metric's direction; equal values share a rank (1, 1, 3); a
    submission without a value it earned on a metric (:func:`ranked_value`: the check failed,
    or measured nothing finite) is not ranked there, only counted in ``missing``. ``aliases``
    is for the instructor (and each student's own file), never shown on a board."""
    aliases: dict[str, str] = {}
    for name in sorted(results):  # two students on one alias (rare): the later gets a letter
        mine, n = alias(name, secret), 0
        while mine in aliases.values():
            n += 1
            mine = f"{alias(name, secret)}{chr(ord('a') + n)}"
        aliases[name] = mine
    checks: dict[str, tuple[str, bool]] = {}
    for name in sorted(results):
        for cid, meta in metric_checks(results[name]).items():
            checks.setdefault(cid, meta)
    boards = []
    for cid, (shown, lower) in checks.items():
        values = []
        for name in sorted(results):
            check = next((c for _, c in results[name].checks() if c.id == cid), None)
            if check is not None and ranked_value(check) is not None:
                values.append((ranked_value(check), aliases[name]))
        values.sort(key=lambda v: (v[0] if lower else -v[0], v[1]))
        ranked, rank = [], 0
        for i, (value, who) in enumerate(values):
            if i == 0 or value != values[i - 1][0]:
                rank = i + 1
            ranked.append({"rank": rank, "alias": who, "value": value})
        boards.append({"id": cid, "name": shown, "order": "asc" if lower else "desc",
                       "ranked": ranked, "missing": len(results) - len(values)})
    return {"metrics": boards, "aliases": aliases}


def own_entry(board: dict[str, Any], name: str) -> dict[str, Any]:
    """What a student may see: their alias and their rank on each metric."""
    me = board["aliases"][name]
    return {"alias": me, "metrics": [
        {"id": m["id"], "name": m["name"], "order": m["order"], "of": len(m["ranked"]),
         **next(({"rank": r["rank"], "value": r["value"]} for r in m["ranked"]
                 if r["alias"] == me), {"rank": None, "value": None})}
        for m in board["metrics"]]}


def write_cohort_leaderboard(results: dict[str, GradingResult], summary: dict[str, Any],
                             folders: dict[str, Path]) -> None:
    """``grade --submissions ... --leaderboard``: the boards into ``summary["leaderboard"]``
    (aliases only: the dashboard shows it), and each student's own entry into
    ``folders[name]/leaderboard.json``."""
    board = cohort_leaderboard(results, course_secret())
    summary["leaderboard"] = {"metrics": board["metrics"]}
    for name, folder in folders.items():
        if name in results:
            folder.mkdir(parents=True, exist_ok=True)
            atomic_write_text(folder / LEADERBOARD_NAME,
                              json.dumps(own_entry(board, name), indent=2) + "\n")
