"""Install nlpdojo (editable) and its pinned dependencies into a virtual environment: with uv
where it can, else with pip. ``make venv`` runs it; nothing at run time does.

Why uv: a fresh clone's ``make test`` pays the install every time, and uv's part of it is
quicker than pip's (``make .venv/.installed`` on a fresh clone against the Makefile's former
two pip commands, in turns, AMD EPYC, 2 cores, load 2.3, warm caches: **44 and 50 s against
64 and 70 s**; the same 107 distributions at the same versions by ``pip freeze``). Most of
what is left is byte-compiling (without it uv takes 5 s), which stays: see below.

uv reads none of pip's configuration, so the sources pip is configured with on this machine
(``pip config list``: its files and the ``PIP_*`` variables) are handed to it as options:

* ``find-links``, ``index-url``, ``extra-index-url`` (a local ``file:`` source that does not
  exist is left out, as pip leaves it out with a warning);
* ``constraint`` files (a machine's cap on torch, say), beside ``constraints.txt``;
* ``cert``: uv's ``SSL_CERT_FILE``.

The installed modules are byte-compiled, as pip does (uv does not by default): the sandboxed
workers run with ``PYTHONDONTWRITEBYTECODE`` set and would otherwise compile NumPy at every
start. Candidates are chosen as pip chooses them: the best version across every source
(``--index-strategy unsafe-best-match``; uv's default takes the first source that has a
package at all). A run of uv that fails for any reason is followed by pip's, as the Makefile
did before, with a line that says so: the result is the same set either way.

    python tools/install_venv.py VENV REQUIREMENT [REQUIREMENT ...]
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse

#: pinned versions of everything installed (uv itself included)
CONSTRAINTS = "constraints.txt"
#: pip's own version, for the tests that build and install wheels with the venv's pip
PIP = "pip>=24"
#: pip's settings that name where packages come from, and the option uv takes for each
SOURCES = {"find-links": "--find-links", "index-url": "--index-url",
           "extra-index-url": "--extra-index-url"}


def pip_settings(python: Path) -> dict[str, list[str]]:
    """pip's effective settings (``pip config list``: files, then the ``PIP_*`` variables,
    the later winning), each as its list of values."""
    listed = subprocess.run([str(python), "-m", "pip", "config", "list"], capture_output=True,
                            text=True, check=False).stdout
    settings: dict[str, list[str]] = {}
    for line in listed.splitlines():
        key, _, value = line.partition("=")
        if not value:
            continue
        name = key.rpartition(".")[2]  # "global.find-links", ":env:.find-links"
        settings[name] = shlex.split(shlex.split(value)[0])  # '/a /b' -> ['/a', '/b']
    return settings


def present(source: str) -> bool:
    """Whether a package source can be read: any URL but a ``file:`` one whose folder is
    missing (pip warns and skips those; uv would fail on them)."""
    parsed = urlparse(source)
    if parsed.scheme in ("", "file"):
        return Path(parsed.path if parsed.scheme else source).exists()
    return True


def uv_command(venv: Path, requirements: list[str],
               settings: dict[str, list[str]]) -> tuple[list[str], dict[str, str]]:
    """The ``uv pip install`` command and environment that install ``requirements`` into
    ``venv`` from pip's sources under pip's constraints."""
    argv = [str(venv / "bin" / "uv"), "pip", "install", "--quiet", "--python",
            str(venv / "bin" / "python"), "--index-strategy", "unsafe-best-match",
            "--compile-bytecode", "-c", CONSTRAINTS]
    for setting, option in SOURCES.items():
        for source in settings.get(setting, []):
            if present(source):
                argv += [option, source]
    for constraint in settings.get("constraint", []):
        if Path(constraint).exists():
            argv += ["-c", constraint]
    env = dict(os.environ)
    for cert in settings.get("cert", [])[:1]:
        env.setdefault("SSL_CERT_FILE", cert)
    return [*argv, PIP, *requirements], env


def pip_install(python: Path, requirements: list[str]) -> None:
    """The install as pip does it (the fallback)."""
    pip = [str(python), "-m", "pip", "install", "--quiet", "-c", CONSTRAINTS]
    subprocess.run([*pip, "--upgrade", PIP], check=True)
    subprocess.run([*pip, *requirements], check=True)


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print(__doc__.strip().splitlines()[-1].strip(), file=sys.stderr)
        return 2
    venv, requirements = Path(argv[0]), argv[1:]
    python = venv / "bin" / "python"
    got_uv = subprocess.run([str(python), "-m", "pip", "install", "--quiet", "-c", CONSTRAINTS,
                             "uv"], check=False).returncode == 0
    if got_uv:
        command, env = uv_command(venv, requirements, pip_settings(python))
        if subprocess.run(command, env=env, check=False).returncode == 0:
            return 0
        print("nlpdojo: uv could not install the environment; installing with pip instead",
              file=sys.stderr)
    else:
        print("nlpdojo: uv could not be installed; installing with pip instead",
              file=sys.stderr)
    pip_install(python, requirements)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
