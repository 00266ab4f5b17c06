"""A script of ``bench/`` imported as a module, for the tests of what the benches compute."""

from __future__ import annotations

import contextlib
import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

BENCH = Path(__file__).resolve().parents[1] / "bench"


@contextlib.contextmanager
def bench_script(name: str) -> Iterator[ModuleType]:
    """``bench/<name>.py`` as the module ``name``: registered in ``sys.modules`` while it runs
    (a dataclass of the script looks its module up) with ``bench/`` on ``sys.path`` (the
    scripts import ``_machine`` and one another); afterwards both undone, and every module of
    ``bench/`` it imported forgotten."""
    before = set(sys.modules)
    added = str(BENCH) not in sys.path
    if added:
        sys.path.insert(0, str(BENCH))
    spec = importlib.util.spec_from_file_location(name, BENCH / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        for new in set(sys.modules) - before:
            if str(getattr(sys.modules[new], "__file__", "") or "").startswith(str(BENCH)):
                del sys.modules[new]
        if added and str(BENCH) in sys.path:
            sys.path.remove(str(BENCH))
