"""What every `grade` pays before its first check: the grader's start-up imports only what
grading needs. Notebooks (nbformat, jsonschema), SciPy's statistics (through the reference's
modules, once imported to read their names) and matplotlib (for the workers' font list) were
each imported by a `grade softmax` on NumPy (the grader's CPU 3.6 s, 1.9 s without them;
docs/benchmarks.md, "Start-up of a grade"); torch must stay out of it too."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = ("nbformat", "jsonschema", "scipy.stats", "matplotlib", "torch")


def _modules_after(code: str, env: dict[str, str] | None = None) -> set[str]:
    probe = code + "\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=120, check=True)
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


def test_a_grade_on_numpy_imports_no_heavy_optional_module(tmp_path):
    """``grade softmax`` on a copy of the solutions (its worker and reference process are
    other processes: what they import is their own cost)."""
    solutions = Path(__file__).resolve().parents[2] / "solutions"
    shutil.copytree(solutions / "word_vectors", tmp_path / "sub" / "word_vectors",
                    ignore=shutil.ignore_patterns("__pycache__"))
    code = ("import runpy, sys\n"
            f"sys.argv = ['grade', 'softmax', '--submission', {str(tmp_path / 'sub')!r},\n"
            f"            '--no-cache', '-f', 'json', '-o', {str(tmp_path / 'out.json')!r}]\n"
            "try:\n"
            "    runpy.run_module('nlpdojo_autograder.cli.grade', run_name='__main__')\n"
            "except SystemExit:\n"
            "    pass\n")
    loaded = _modules_after(code, {"NLPDOJO_BACKEND": "numpy"})
    report = json.loads((tmp_path / "out.json").read_text())
    assert report["score"] == report["max_score"] == 4
    assert not loaded & set(HEAVY), sorted(loaded & set(HEAVY))


def test_importing_every_module_of_every_topic_imports_no_heavy_module():
    """A worker and a reference process import every module of the topic they grade (and of
    the course library) before the first check, whatever the questions graded: a heavy import
    at the top of one of them is paid by every grading of the topic, twice. SciPy's statistics
    and sparse matrices at the top of word_vectors' evaluate.py and count_based.py cost ~1 CPU-s
    a grading (``grade softmax naive_softmax``: 2.8 against 1.8 CPU-s); a module imports them
    in the function that uses them."""
    solutions = Path(__file__).resolve().parents[2] / "solutions"
    names = sorted(f"nlpdojo_solutions.{p.parent.name}.{p.stem}"
                   for p in solutions.glob("*/*.py") if p.stem != "__init__")
    assert len(names) > 40 and any(".evaluate" in n for n in names)
    loaded = _modules_after("import importlib\n"
                            f"for name in {names!r}:\n"
                            "    importlib.import_module(name)\n")
    heavy = {*HEAVY, "scipy.sparse"}
    assert not loaded & heavy, sorted(loaded & heavy)


@pytest.mark.skipif(subprocess.run([sys.executable, "-c", "import matplotlib"],
                                   capture_output=True).returncode != 0,
                    reason="matplotlib is not installed")
def test_the_workers_font_list_is_found_without_importing_matplotlib(tmp_path):
    """Where the grader's matplotlib cache holds a font list, it is found by its name; where
    it holds none, matplotlib builds one (imported then, once)."""
    cache = tmp_path / "mpl"
    cache.mkdir()
    (cache / "fontlist-v390.json").write_text("{}")
    code = ("from nlpdojo_autograder.runtime import sandbox\n"
            "print(sandbox._grader_font_list())")
    loaded = _modules_after(code, {"MPLCONFIGDIR": str(cache)})
    assert "matplotlib" not in loaded
    empty = tmp_path / "empty"
    empty.mkdir()
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**os.environ, "MPLCONFIGDIR": str(empty)}, timeout=300,
                          check=True)
    built = Path(done.stdout.strip().splitlines()[-1])
    assert built.parent == empty and built.name.startswith("fontlist-v"), done.stdout
    assert json.loads(built.read_text())  # matplotlib's own list, not empty


def test_a_worker_registers_backends_and_layers_but_no_data_sets_reports_or_exercises():
    """A worker and a reference process build the registry without the hooks the grader's
    side answers (``worker.LEFT_OUT_HOOKS``): the backends and modules graded code builds on
    are there; data sets, report formats, exercises and trainers are not, nor the modules
    that would register them."""
    code = ("import json\n"
            "from nlpdojo import plugins\n"
            "from nlpdojo_autograder.runtime.worker import LEFT_OUT_HOOKS\n"
            "registry = plugins.build_without(LEFT_OUT_HOOKS)\n"
            "kinds = ('backend', 'module', 'loss', 'optimizer', 'dataset', 'reporter',\n"
            "         'exercise', 'trainer')\n"
            "print(json.dumps({k: len(registry.entries(k)) for k in kinds}))\n")
    done = subprocess.run([sys.executable, "-c", code + "\nimport sys\n"
                           "print(json.dumps(sorted(sys.modules)))"],
                          capture_output=True, text=True, timeout=120, check=True)
    counts, loaded = (json.loads(line) for line in done.stdout.strip().splitlines()[-2:])
    assert counts["backend"] > 0 and counts["module"] > 0, counts  # numpy, torch, strict...
    assert all(counts[k] == 0 for k in ("dataset", "reporter", "exercise", "trainer")), counts
    assert not {"rich", "nlpdojo_datasets.sotu", "nlpdojo_reports.table"} & set(loaded)


def test_a_worker_given_the_graders_plugins_registers_the_same_without_reading_metadata():
    """The grader sends its workers the entry points it loaded (``plugins.chosen_plugins``):
    a worker registers the same backends and modules as one that reads every installed
    distribution's metadata, without importing ``importlib.metadata`` at all (51 ms of a
    start-up; bench/worker_startup.py). Nor does it import NumPy's submodules that no array
    code uses (``nlpdojo.arrays.DEFERRED_SUBMODULES``)."""
    from nlpdojo import plugins

    chosen = json.dumps([[c.name, c.value, c.distribution] for c in plugins.chosen_plugins()])
    listing = ("import json, sys\n"
               "from nlpdojo.selection import load_backend\n"
               "load_backend('numpy', 'cpu', 'float64')\n"
               "print(json.dumps({k: sorted(f'{e.plugin}:{e.name}' for e in registry.entries(k))\n"
               "                  for k in ('backend', 'module', 'loss', 'optimizer')}))\n"
               "print(json.dumps(sorted(sys.modules)))\n")
    given = ("from nlpdojo import plugins\n"
             "from nlpdojo_autograder.runtime.worker import LEFT_OUT_HOOKS\n"
             f"chosen = [plugins.ChosenPlugin(*e) for e in __import__('json').loads({chosen!r})]\n"
             "registry = plugins.build_without(LEFT_OUT_HOOKS, chosen=chosen)\n")
    scanned = ("from nlpdojo import plugins\n"
               "from nlpdojo_autograder.runtime.worker import LEFT_OUT_HOOKS\n"
               "registry = plugins.build_without(LEFT_OUT_HOOKS)\n")
    runs = {}
    for name, code in (("given", given), ("scanned", scanned)):
        done = subprocess.run([sys.executable, "-c", code + listing], capture_output=True,
                              text=True, timeout=120, check=True)
        runs[name] = [json.loads(line) for line in done.stdout.strip().splitlines()[-2:]]
    assert runs["given"][0] == runs["scanned"][0]
    assert runs["given"][0]["backend"] and runs["given"][0]["module"]
    loaded = set(runs["given"][1])
    assert "importlib.metadata" not in loaded
    assert "importlib.metadata" in set(runs["scanned"][1])
    assert not {"numpy.testing", "numpy.f2py", "numpy.ma"} & loaded


def test_an_entry_point_value_that_names_nothing_is_a_clear_error():
    from nlpdojo import plugins

    with pytest.raises(ValueError, match="not an entry point's module:attribute"):
        plugins.ChosenPlugin("broken", "not a value!", "nlpdojo").load()
    assert plugins.ChosenPlugin("numpy", "nlpdojo_numpy.plugin", "nlpdojo").builtin
    assert not plugins.ChosenPlugin("x", "json:dumps", "someone-else").builtin
    assert plugins.ChosenPlugin("x", "json:dumps", "someone-else").load() is json.dumps


def test_the_numpy_backend_imports_scipy_sparse_only_for_a_scatter_that_cannot_run_in_place():
    """Every worker and reference process loads the NumPy backend; SciPy's sparse package
    (~0.1 CPU-s and 176 modules to import) is for the scatters its in-place kernel cannot run
    (mixed dtypes, a target that is not contiguous). The kernel's own extension module is
    loaded alone at the first scatter, and kept out of ``sys.modules``: a later import of the
    package is as it would have been, its ``_sparsetools`` attribute included."""
    code = ("import json, sys\n"
            "import numpy as np\n"
            "from nlpdojo.selection import load_backend\n"
            "backend = load_backend('numpy', 'cpu', 'float64')\n"
            "seen = ['scipy.sparse' in sys.modules]\n"
            "target = np.zeros((5, 2))\n"
            "backend.scatter_add(target, np.array([1, 3, 1]), np.ones((3, 2)))\n"
            "seen += ['scipy' in sys.modules, 'scipy.sparse._sparsetools' in sys.modules]\n"
            "mixed = np.zeros((5, 2), dtype=np.float32)\n"
            "backend.scatter_add(mixed, np.array([4, 4]), np.ones((2, 2)))\n"
            "seen += ['scipy.sparse' in sys.modules]\n"
            "import scipy.sparse as sp\n"
            "seen += [sp._sparsetools is sys.modules['scipy.sparse._sparsetools'],\n"
            "         (sp.eye(3, format='csr') @ np.ones(3)).tolist()]\n"
            "print(json.dumps([seen, target.tolist(), mixed.tolist()]))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, check=True)
    seen, target, mixed = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen == [False, False, False, True, True, [1.0, 1.0, 1.0]]
    assert target == [[0, 0], [2, 2], [0, 0], [1, 1], [0, 0]]
    assert mixed == [[0, 0]] * 4 + [[2, 2]]


@pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap is not installed")
def test_a_sandboxed_worker_reads_the_graders_modules_byte_compiled(tmp_path):
    """The sandbox shows a worker its own modules of the grader's package (the rest of the
    package hidden: test_the_staged_grader_package...); their byte-compiled files are beside them,
    so that a worker, whose environment writes no bytecode, does not compile them again at
    every start (``make test`` byte-compiles the tree first)."""
    import compileall
    import importlib.util

    from nlpdojo_autograder.runtime import sandbox

    module = Path(importlib.util.find_spec("nlpdojo_autograder.runtime.channel").origin)
    assert compileall.compile_file(str(module), quiet=1)
    cached = importlib.util.cache_from_source(str(module))
    code, scratch = tmp_path / "code", tmp_path / "scratch"
    code.mkdir()
    scratch.mkdir()
    (scratch / "stack.txt").touch()
    env = sandbox._environment(Path(sandbox.SCRATCH_DIR))
    argv = sandbox._bwrap_argv(code, scratch, env, None, [], 0, ())
    done = subprocess.run([*argv, sys.executable, "-v", "-c",
                           "import nlpdojo_autograder.runtime.channel"],
                          env={"PATH": env["PATH"]}, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert f"# code object from '{cached}'" in done.stderr, [
        line for line in done.stderr.splitlines() if "channel" in line]
    # the rest of the grader's side stays hidden, compiled or not
    hidden = Path(importlib.util.cache_from_source(
        str(module.parent.parent / "grading" / "grade.py")))
    listed = subprocess.run([*argv, "ls", str(hidden.parent)], env={"PATH": env["PATH"]},
                            capture_output=True, text=True, timeout=60, check=False)
    assert hidden.name not in listed.stdout


def test_the_sandbox_starts_openblas_with_one_thread_unless_told_otherwise(monkeypatch, tmp_path):
    """Left unset, OpenBLAS starts a spinning thread per core as NumPy imports, in every
    worker, and the NumPy backend then sets one; a count the grader is given reaches the
    worker as it is."""
    from nlpdojo_autograder.runtime import sandbox

    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    assert sandbox._environment(tmp_path)["OPENBLAS_NUM_THREADS"] == "1"
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "3")
    assert sandbox._environment(tmp_path)["OPENBLAS_NUM_THREADS"] == "3"


def _seen_in_the_sandbox(argv: list[str], folders: list[Path], env: dict[str, str]) -> str:
    listing = subprocess.run([*argv, "find", *map(str, folders), "-printf", "%p %m\\n"],
                             env={"PATH": env["PATH"]}, capture_output=True, text=True,
                             timeout=60, check=True)
    return "\n".join(sorted(listing.stdout.splitlines()))


@pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap is not installed")
def test_the_staged_grader_package_shows_what_the_file_by_file_binds_show(tmp_path,
                                                                          monkeypatch):
    """The grader's modules a worker sees, staged as one folder per package tree and bound
    once (runtime/shown.py: 13 of bubblewrap's 26 ms a start), are the files that a bind
    per file showed: the same paths, none more, readable by the worker's own user; where no
    stage can be made (the cache folder not writable) the sandbox binds them file by file,
    and the worker sees the same."""
    from nlpdojo_autograder.runtime import sandbox

    code, scratch = tmp_path / "code", tmp_path / "scratch"
    code.mkdir()
    scratch.mkdir()
    (scratch / "stack.txt").touch()
    env = sandbox._environment(Path(sandbox.SCRATCH_DIR))
    folders = sorted({folder for folder, _ in sandbox._grader_package()})
    monkeypatch.setenv("NLPDOJO_SHOWN_CACHE", str(tmp_path / "stages"))
    staged = sandbox._bwrap_argv(code, scratch, env, None, [], 0, ())
    # (of /etc, a bind per file the sandbox shows: sandbox.ETC_SHOWN)
    binds = [staged[i + 1] for i, a in enumerate(staged) if a == "--ro-bind"]
    assert len([b for b in binds if not b.startswith("/etc/")]) < 20, (
        "one bind per package tree, not one per file")
    (tmp_path / "not-a-folder").write_text("")
    monkeypatch.setenv("NLPDOJO_SHOWN_CACHE", str(tmp_path / "not-a-folder" / "stages"))
    by_file = sandbox._bwrap_argv(code, scratch, env, None, [], 0, ())
    assert by_file.count("--ro-bind") > 60
    seen = _seen_in_the_sandbox(staged, folders, env)
    assert seen == _seen_in_the_sandbox(by_file, folders, env)
    worker = Path(sandbox.__file__).with_name("worker.py")
    grade = Path(sandbox.__file__).parent.parent / "grading" / "grade.py"
    assert f"{worker} 644" in seen and str(grade) not in seen
    for line in seen.splitlines():  # folders and files a dropped user can read
        assert line.rsplit(" ", 1)[1] in ("755", "644"), line


def test_a_stage_is_made_again_for_an_edited_module_and_unused_ones_are_removed(
        tmp_path, monkeypatch):
    """A stage is named by its files' paths, sizes and times: an edit (an editable install)
    makes a new one with the new text, the unchanged tree finds its stage again, and a stage
    unused for a week is removed when another is made."""
    from nlpdojo_autograder.runtime import shown

    monkeypatch.setenv("NLPDOJO_SHOWN_CACHE", str(tmp_path / "stages"))
    top = tmp_path / "package"
    (top / "inner").mkdir(parents=True)
    (top / "__init__.py").write_text("")
    (top / "inner" / "module.py").write_text("A = 1\n")
    (top / "inner" / "hidden.py").write_text("SECRET = 2\n")
    members = [(top, [top / "__init__.py"]), (top / "inner", [top / "inner" / "module.py"])]
    first = shown.staged(top, members)
    assert first is not None
    assert (first / "inner" / "module.py").read_text() == "A = 1\n"
    assert not (first / "inner" / "hidden.py").exists()
    assert shown.staged(top, members) == first
    os.utime(first, (0, 0))  # unused for decades
    (top / "inner" / "module.py").write_text("A = 22\n")
    second = shown.staged(top, members)
    assert second != first and (second / "inner" / "module.py").read_text() == "A = 22\n"
    assert not first.exists(), "a stage unused for a week is removed"
    assert sorted(p.name for p in (tmp_path / "stages").iterdir()) == [second.name]


def test_a_stage_written_by_someone_else_is_made_again(tmp_path, monkeypatch):
    """A stage is the user's file: a submission graded without the sandbox (as the user)
    could write one, a changed module or one more, under the name the grader would look for.
    A process uses a stage only after finding it holds exactly its sources' files, byte for
    byte; otherwise it makes it again."""
    from nlpdojo_autograder.runtime import shown

    monkeypatch.setenv("NLPDOJO_SHOWN_CACHE", str(tmp_path / "stages"))
    monkeypatch.setattr(shown, "_CHECKED", set())
    top = tmp_path / "package"
    top.mkdir()
    (top / "worker.py").write_text("HONEST = True\n")
    members = [(top, [top / "worker.py"])]
    stage = shown.staged(top, members)
    assert stage is not None
    os.chmod(stage / "worker.py", 0o644)
    (stage / "worker.py").write_text("HONEST = False\n")  # forged, same name
    (stage / "extra.py").write_text("")
    monkeypatch.setattr(shown, "_CHECKED", set())  # a later process
    again = shown.staged(top, members)
    assert again == stage
    assert (stage / "worker.py").read_text() == "HONEST = True\n"
    assert not (stage / "extra.py").exists()
