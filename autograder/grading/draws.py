"""Prepared draws: the reference's expected outcomes computed before the grading that uses them.

Where the reference is installed, a grading draws a fresh input seed and runs the reference on
every check at that draw for its expected values. A metric check trains the reference as well,
for the audit of every step (:mod:`nlpdojo_autograder.training.trained`). That run is what a CI
grading costs beyond a student release's (docs/benchmarks.md, 1.3-1.9 times). A cohort pays
for it once for all its submissions (:mod:`.expected`). A submission graded alone (a CI job
per push, a grading service) can take it from a draw prepared before, at a quiet hour:

    dojo draws prepare rnn_variants --count 50     # 50 fresh draws, the reference run at each
    grade rnn_variants --submission alice/         # takes one of them, never to be used again

A prepared draw is one fresh input seed (52 bits, :func:`fresh_seed`) and the outcomes of the
reference's run at it for one or more topics, stored as the expected-outcome store keeps them
(:class:`.expected.ExpectedStore`), under ``<store>/prepared/<id>/``. ``grade`` takes one
(:func:`take`):

* **single use**: a grading claims a draw by renaming its folder out of ``prepared/`` (atomic:
  two gradings at once never share one), then moves its outcomes into the ordinary store,
  where a grading repeated at that seed finds them as after any grading;
* **at random** among those that serve the grading, so that which draw comes next is not
  known either;
* **only where it fits**: the grading's topics are among the draw's, its budget (``--full``)
  is the draw's, and each topic's key is still the store's for that seed, which holds the
  reference's and the grader's source (an edit to either, or an upgrade, and the draw serves
  no grading: ``dojo draws`` counts it as stale);
* **as secret as a fresh draw**: the seed is drawn with :mod:`secrets` when prepared and first
  shown in the result of the grading that takes it. The folder is the grader's, hidden from the
  sandboxed worker like the rest of the store (docs/security.md).

A grading that finds no draw to take (none prepared, all taken, none fitting) draws a fresh
seed and runs the reference, as without any; a ``prepared/`` folder that exists but serves
nothing is named in a warning, so that an instructor learns the pool ran dry.

What changes is where the reference's run is paid for, not what it is: preparing a draw costs
what the reference's part of a grading costs, and every verdict is that of a grading at the
draw's seed (the same outcomes, loaded instead of computed).
"""

from __future__ import annotations

import functools
import json
import os
import secrets
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nlpdojo.errors import NlpdojoError
from nlpdojo_autograder.grading import expected as expected_store
from nlpdojo_autograder.grading.grade import (
    REFERENCE_BACKEND,
    ExpectedCache,
    GradeOptions,
    get_exercise,
    select_checks,
    store_expected,
)
from nlpdojo_autograder.runtime.loader import reference_available

#: bump when the meaning of a draw's record changes
FORMAT = 1
#: the folder of prepared draws inside the expected-outcome store
PREPARED = "prepared"
#: each draw's record (its seed, budget and per-topic keys) in its folder
RECORD = "draw.json"
#: where a claimed draw is moved before its outcomes join the store (then removed)
CLAIMED_PREFIX = ".claimed-"
#: ``dojo draws clear --stale`` removes what a killed process left once this old (seconds)
LEFTOVER_AGE_S = 86_400.0


def fresh_seed() -> int:
    """Inputs nobody has seen: public checks' expected values are shipped as fixtures (seed
    0), so where the reference can compute expected values for any seed, a fresh one is drawn:
    52 bits, so that no search over seeds finds it from what a check's inputs reveal (and a
    JSON reader's float keeps it exact)."""
    return 1 + secrets.randbelow(2**52 - 1)


@dataclass(frozen=True)
class Draw:
    """One prepared draw: its folder, input seed, budget, when it was made, and the store's
    key of each topic it holds outcomes for."""

    folder: Path
    input_seed: int
    full: bool
    created: float
    keys: dict[str, str]

    @property
    def id(self) -> str:
        return self.folder.name

    def topics(self) -> list[str]:
        return sorted(self.keys)


#: ``key_of(topic, input_seed, full)``: the store's key of a topic's outcomes at that draw now
#: (None: the topic is not installed here, or is graded without the reference)
KeyOf = Callable[[str, int, bool], "str | None"]


class DrawPool:
    """The prepared draws under ``root`` (the expected-outcome store's folder)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.folder = self.root / PREPARED

    def exists(self) -> bool:
        """Whether draws were ever prepared here (the folder stays when all are taken)."""
        return self.folder.is_dir()

    def draws(self) -> list[Draw]:
        """Every readable draw, oldest first (an unreadable record is left out: it serves no
        grading, and ``dojo draws clear`` removes it)."""
        found = []
        for folder in sorted(self.folder.iterdir()) if self.exists() else ():
            if folder.name.startswith(".") or not folder.is_dir():
                continue
            draw = _read(folder)
            if draw is not None:
                found.append(draw)
        return sorted(found, key=lambda d: (d.created, d.id))

    def unreadable(self) -> list[Path]:
        """Folders under ``prepared/`` with no readable record (half-made, or another format)."""
        if not self.exists():
            return []
        return [f for f in sorted(self.folder.iterdir())
                if f.is_dir() and not f.name.startswith(".") and _read(f) is None]

    @staticmethod
    def fits(draw: Draw, topics: list[str], full: bool, key_of: KeyOf) -> bool:
        """Whether ``draw`` can serve a grading of ``topics`` (those that need the reference's
        expected outcomes) at budget ``full``: it holds each, at their current keys."""
        return draw.full == full and all(
            topic in draw.keys and key_of(topic, draw.input_seed, full) == draw.keys[topic]
            for topic in topics)

    @staticmethod
    def current(draw: Draw, key_of: KeyOf) -> bool:
        """Whether every topic of ``draw`` is still at its key (none stale)."""
        return all(key_of(topic, draw.input_seed, draw.full) == key
                   for topic, key in draw.keys.items())

    def claim(self, topics: list[str], full: bool, key_of: KeyOf) -> Draw | None:
        """Take a draw that serves ``topics`` at ``full`` for this grading alone: chosen at
        random among those holding the fewest other topics (a draw taken is spent whole),
        renamed out of ``prepared/`` (another grading's rename of it fails, and it tries the
        next), its outcomes moved into the ordinary store. None: no draw serves.
        :class:`DrawError` where a draw cannot be claimed at all (a store this user cannot
        write: no grading could take one)."""
        fitting = [d for d in self.draws() if self.fits(d, topics, full, key_of)]
        secrets.SystemRandom().shuffle(fitting)
        for draw in sorted(fitting, key=lambda d: len(d.keys)):  # stable: random within ties
            claimed = self.folder / f"{CLAIMED_PREFIX}{draw.id}-{os.getpid()}"
            try:
                os.rename(draw.folder, claimed)
            except FileNotFoundError:  # another grading took it first
                continue
            except OSError as exc:
                raise DrawError(f"the prepared draws in {self.folder} cannot be claimed: "
                                f"{exc.strerror or exc} (the grading's user must be able to "
                                "write the store)") from exc
            try:
                for topic, key in draw.keys.items():
                    _move_entry(claimed / topic / key, self.root / topic / key)
            finally:
                shutil.rmtree(claimed, ignore_errors=True)
            return draw
        return None

    def add(self, input_seed: int, full: bool, fill: Callable[[Path], dict[str, str]]) -> Draw:
        """Prepare one draw: ``fill(folder)`` stores the reference's outcomes at
        ``input_seed`` in an expected-outcome store at ``folder`` and returns each topic's key;
        the draw appears (renamed into ``prepared/``) only once complete, so a grading never
        takes a half-made one."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            staging = Path(tempfile.mkdtemp(dir=self.folder, prefix=".new-"))
        except OSError as exc:
            raise DrawError(f"cannot prepare draws in {self.folder}: {exc.strerror or exc}"
                            ) from exc
        try:
            keys = fill(staging)
            created = time.time()
            (staging / RECORD).write_text(json.dumps({
                "format": FORMAT, "input_seed": input_seed, "full": full, "created": created,
                "keys": keys}), encoding="utf-8")
            target = self.folder / secrets.token_hex(8)
            os.rename(staging, target)
        except OSError as exc:
            raise DrawError(f"cannot prepare draws in {self.folder}: {exc.strerror or exc}"
                            ) from exc
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return Draw(folder=target, input_seed=input_seed, full=full, created=created, keys=keys)

    def remove(self, draws: list[Draw] | None = None) -> int:
        """Remove ``draws`` (None: every draw, every unreadable folder, and what a killed
        process left over a day ago: a younger one may be a draw still being made); how many.
        :class:`DrawError` where one cannot be removed."""
        if draws is None:
            return _removed([d.folder for d in self.draws()]) + self.remove_unreadable()
        return _removed([d.folder for d in draws])

    def remove_unreadable(self) -> int:
        """Remove the folders under ``prepared/`` with no readable record, and what a process
        killed while preparing or claiming a draw left (hidden, never taken) over a day ago;
        how many."""
        return _removed([*self.unreadable(), *self.leftovers(older_than_s=LEFTOVER_AGE_S)])

    def leftovers(self, older_than_s: float = 0.0) -> list[Path]:
        """Hidden folders under ``prepared/`` (a draw being made, or claimed and being moved)
        last changed over ``older_than_s`` ago: a process killed there left them."""
        if not self.exists():
            return []
        now = time.time()
        found = []
        for folder in sorted(self.folder.iterdir()):
            try:
                old = now - folder.stat().st_mtime >= older_than_s
            except OSError:
                continue
            if folder.name.startswith((".new-", CLAIMED_PREFIX)) and folder.is_dir() and old:
                found.append(folder)
        return found


class DrawError(NlpdojoError):
    """The prepared draws cannot be used as asked (a store that cannot be written)."""


def _removed(folders: list[Path]) -> int:
    """Remove ``folders``; how many. :class:`DrawError` naming the first that stays."""
    problems: list[str] = []

    def note(_function: Any, _path: str, info: Any) -> None:
        problems.append(getattr(info[1], "strerror", None) or str(info[1]))

    for folder in folders:
        shutil.rmtree(folder, onerror=note)
        if folder.exists():
            raise DrawError(f"cannot remove {folder}: {problems[-1] if problems else 'it stays'}")
    return len(folders)


def _read(folder: Path) -> Draw | None:
    try:
        data = json.loads((folder / RECORD).read_text(encoding="utf-8"))
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            return None
        keys = data["keys"]
        if not isinstance(keys, dict) or not keys or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in keys.items()):
            return None
        seed = data["input_seed"]
        if not isinstance(seed, int) or isinstance(seed, bool) or seed <= 0:
            return None
        return Draw(folder=folder, input_seed=seed, full=bool(data["full"]),
                    created=float(data["created"]), keys=dict(keys))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _move_entry(source: Path, target: Path) -> None:
    """One topic's outcomes into the ordinary store (``<root>/<topic>/<key>``), replacing an
    entry already there (the same key: the same outcomes)."""
    if not source.is_dir():
        return
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if target.exists():
        shutil.rmtree(target, ignore_errors=True)
    os.replace(source, target)


def default_pool() -> DrawPool | None:
    """The prepared draws of the expected-outcome store (:func:`.expected.default_root`:
    ``$NLPDOJO_EXPECTED_CACHE``, else ``~/.cache/nlpdojo/expected``); None where it is
    ``off``."""
    root = expected_store.default_root()
    return DrawPool(root) if root is not None else None


def summary(pool: DrawPool, key_of: KeyOf) -> dict[str, Any]:
    """What ``dojo draws list`` prints: the folder, and per set of topics and budget the draws
    ready and stale (prepared with another reference or grader) and their bytes on disk; the
    unreadable folders, and what killed processes left (hidden folders: a draw being made or
    claimed, or left so)."""
    groups: dict[tuple[tuple[str, ...], bool], dict[str, Any]] = {}
    for draw in pool.draws():
        group = groups.setdefault((tuple(draw.topics()), draw.full), {
            "topics": draw.topics(), "full": draw.full, "ready": 0, "stale": 0,
            "oldest": draw.created, "newest": draw.created, "bytes": 0})
        group["ready" if pool.current(draw, key_of) else "stale"] += 1
        group["oldest"] = min(group["oldest"], draw.created)
        group["newest"] = max(group["newest"], draw.created)
        group["bytes"] += _size(draw.folder)
    return {"folder": str(pool.folder), "groups": list(groups.values()),
            "unreadable": [str(p) for p in pool.unreadable()],
            "leftovers": [str(p) for p in pool.leftovers()]}


def _size(folder: Path) -> int:
    """The bytes of the files under ``folder`` (0 for any that vanished meanwhile)."""
    total = 0
    for path in folder.rglob("*"):
        try:
            total += path.stat().st_size if path.is_file() else 0
        except OSError:
            continue
    return total


# -- what grade and `dojo draws` call: the store's keys of the installed topics ----------------

def topic_key(topic: str, input_seed: int, full: bool) -> str | None:
    """The store's key of ``topic``'s expected outcomes at ``input_seed`` (base seed 0) and
    budget ``full``, for the reference and grader installed now; None where the topic is not
    registered or its reference is not installed."""
    try:
        exercise = get_exercise(topic)
    except Exception:  # noqa: BLE001 - a topic of a pack no longer installed: nothing fits
        return None
    if not reference_available(exercise.reference_package):
        return None
    return expected_store.draw_key(exercise, REFERENCE_BACKEND[0], 0, input_seed, full)


def memo_key_of() -> KeyOf:
    """:func:`topic_key`, each answer computed once (one call of ``dojo draws`` or ``grade``
    reads every draw's keys: the reference's source is hashed per topic and seed)."""
    return functools.cache(topic_key)


@dataclass(frozen=True)
class Prepared:
    """What :func:`prepare` made of one draw: the draw, and per topic the checks whose
    outcomes it holds of those that need them (fewer: the reference did not complete some,
    a time-out on a busy machine; a grading taking it computes those)."""

    draw: Draw
    stored: dict[str, tuple[int, int]]


def prepare(pool: DrawPool, topics: list[str], *, full: bool, limits: Any,
            on_topic: Callable[[str, int], None] | None = None) -> Prepared:
    """Draw a fresh input seed and store the reference's expected outcomes of ``topics`` at
    it as one prepared draw (``limits``: the reference's, as a grading's)."""
    seed = fresh_seed()
    options = GradeOptions(seed=0, input_seed=seed, full=full, limits=limits)
    stored: dict[str, tuple[int, int]] = {}

    def fill(folder: Path) -> dict[str, str]:
        # a cache of its own: nothing of this draw stays in the process's memory after it
        store_expected(topics, options, folder, on_topic=on_topic, cache=ExpectedCache())
        store = expected_store.ExpectedStore(folder)
        keys = {}
        for topic in topics:
            key = topic_key(topic, seed, full)
            if key is None:
                continue
            needing = [c for c in select_checks(get_exercise(topic), options, True)
                       if c.needs_expected]
            stored[topic] = (len(store.load(topic, key)), len(needing))
            keys[topic] = key
        return keys

    return Prepared(draw=pool.add(seed, full, fill), stored=stored)


def take(topics: list[str], full: bool) -> tuple[Draw | None, str | None]:
    """For a grading of ``topics`` (those graded with the reference) at ``full`` that drew a
    fresh seed: a prepared draw to grade on instead, claimed for it alone, or None and why
    not where draws were prepared here (a warning's text: the pool ran dry, or holds only
    draws for other topics, another budget, or another reference or grader)."""
    pool = default_pool()
    if pool is None or not pool.exists() or not topics:
        return None, None
    key_of = memo_key_of()
    try:
        draw = pool.claim(topics, full, key_of)
    except DrawError as exc:
        return None, f"{exc}, so the reference runs at this grading's fresh draw"
    if draw is not None:
        return draw, None
    left = pool.draws()
    command = f"dojo draws prepare {' '.join(topics)}{' --full' if full else ''}"
    if not left:
        why = f"none is left in {pool.folder}"
    else:
        stale = sum(not pool.current(d, key_of) for d in left)
        why = (f"none of the {len(left)} in {pool.folder} serves {', '.join(topics)}"
               f"{' with --full' if full else ''}"
               + (f" ({stale} prepared with another reference or grader: `dojo draws clear "
                  f"--stale`)" if stale else ""))
    return None, (f"prepared draws: {why}, so the reference runs at this grading's fresh "
                  f"draw (`{command} --count N` prepares more)")
