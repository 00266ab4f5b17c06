"""The grader's reads of files the worker may have replaced (remote.read_untrusted), and what
the sandbox binds of the grader's sys.path (sandbox._python_folders)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

from nlpdojo_autograder.runtime import sandbox
from nlpdojo_autograder.runtime.remote import read_untrusted


def test_a_regular_file_is_read_up_to_the_cap(tmp_path):
    (tmp_path / "work0").mkdir()
    (tmp_path / "work0" / "plot.png").write_bytes(b"x" * 3000)
    assert read_untrusted(tmp_path, "work0", "plot.png", max_bytes=10_000) == b"x" * 3000
    assert read_untrusted(tmp_path, "work0", "plot.png", max_bytes=100) == b"x" * 100


def test_a_fifo_a_link_or_a_folder_is_refused_without_blocking(tmp_path):
    os.mkfifo(tmp_path / "stack.txt")
    outside = tmp_path.parent / f"{tmp_path.name}-secret"
    outside.mkdir()
    (outside / "plot.png").write_bytes(b"secret")
    (tmp_path / "link.png").symlink_to(outside / "plot.png")
    (tmp_path / "work0").symlink_to(outside)  # a folder on the way, replaced by a link
    (tmp_path / "folder.png").mkdir()
    found: list = []
    reader = threading.Thread(target=lambda: found.extend([
        read_untrusted(tmp_path, "stack.txt", max_bytes=100),
        read_untrusted(tmp_path, "link.png", max_bytes=100),
        read_untrusted(tmp_path, "work0", "plot.png", max_bytes=100),
        read_untrusted(tmp_path, "folder.png", max_bytes=100),
        read_untrusted(tmp_path, "missing.png", max_bytes=100),
        read_untrusted(tmp_path, "..", f"{tmp_path.name}-secret", "plot.png", max_bytes=100),
    ]), daemon=True)
    reader.start()
    reader.join(10)
    assert not reader.is_alive(), "reading a FIFO blocked"
    assert found == [None] * 6


def test_the_working_folder_of_python_m_is_not_bound(tmp_path):
    """``python -m`` puts its working folder first on sys.path; PYTHONPATH=. names it too."""
    (tmp_path / ".env").write_text("TOKEN=x\n")
    probe = ("import sys; from nlpdojo_autograder.runtime import sandbox\n"
             "print('\\n'.join(str(f) for f in sandbox._python_folders()))\n")
    (tmp_path / "probe.py").write_text(probe)
    env = {**os.environ, "PYTHONPATH": "."}
    proc = subprocess.run([sys.executable, "-m", "probe"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, check=True, timeout=60)
    bound = [Path(line) for line in proc.stdout.splitlines()]
    here = tmp_path.resolve()
    assert bound and not [f for f in bound if f == here or f in here.parents], bound


def test_a_folder_packages_are_installed_in_is_bound(tmp_path):
    """``pip install --target DIR`` + ``PYTHONPATH=DIR``: DIR holds the worker's packages."""
    target = tmp_path / "site"
    (target / "somepkg-1.0.dist-info").mkdir(parents=True)
    probe = ("from nlpdojo_autograder.runtime import sandbox\n"
             "print('\\n'.join(str(f) for f in sandbox._python_folders()))\n")
    env = {**os.environ, "PYTHONPATH": str(target)}
    proc = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, env=env,
                          capture_output=True, text=True, check=True, timeout=60)
    assert str(target.resolve()) in proc.stdout.splitlines()


def test_a_project_checkout_on_the_import_path_is_not_bound(tmp_path):
    """An editable install (``make venv``, ``pip install -e .``) writes the project's
    ``*.egg-info`` into its checkout, so a clone on the import path (``PYTHONPATH=.`` in it, or
    pytest's rootdir) passed for a folder packages are installed in, and the whole clone was
    bound in the sandbox: its ``.env``, and the submissions and reports an instructor keeps in
    it (its ``solutions/`` and ``.git`` masked). A folder with a project's build files is a
    source tree: only the worker's own packages in it are bound."""
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'course'\n")
    (tmp_path / "course.egg-info").mkdir()
    (tmp_path / ".env").write_text("TOKEN=x\n")
    probe = ("from nlpdojo_autograder.runtime import sandbox\n"
             "print('\\n'.join(str(f) for f in sandbox._python_folders()))\n")
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    proc = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, env=env,
                          capture_output=True, text=True, check=True, timeout=60)
    bound = [Path(line) for line in proc.stdout.splitlines()]
    here = tmp_path.resolve()
    assert bound and not [f for f in bound if f == here or f in here.parents], bound


def test_a_pth_file_naming_a_project_root_does_not_bind_it(tmp_path):
    """A legacy (``setup.py develop``) or compat-mode editable install names its project's root
    in a ``.pth`` file: bound whole, that root would show the clone as above. A ``.pth``
    folder that is no source tree is bound as before."""
    clone, plain, site_dir = tmp_path / "clone", tmp_path / "vendored", tmp_path / "site"
    for folder in (clone, plain, site_dir):
        folder.mkdir()
    (clone / "setup.py").write_text("from setuptools import setup\nsetup()\n")
    (site_dir / "easy-install.pth").write_text(f"{clone}\n{plain}\nimport os\n")
    assert sandbox._pth_folders(site_dir) == [plain]
