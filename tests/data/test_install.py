"""The atomic, idempotent install: fall-through between sources, pins, interruptions."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from nlpdojo.data import sources
from nlpdojo.data.checksums import FileSpec
from nlpdojo.data.errors import FetchError
from nlpdojo.data.install import install
from nlpdojo.data.sources import Url

from .conftest import make_tar_gz, sha256

GOOD = {"pkg/a.txt": b"alpha\n", "pkg/b.txt": b"beta\n" * 1000}
FILES = (FileSpec("a.txt", sha256(GOOD["pkg/a.txt"]), 6),
         FileSpec("b.txt", sha256(GOOD["pkg/b.txt"]), 5000))
MEMBERS = {"a.txt": "pkg/a.txt", "b.txt": "pkg/b.txt"}


def _publish(server, name: str, members: dict[str, bytes]) -> Url:
    data = make_tar_gz(members)
    (server.root / name).write_bytes(data)
    return Url(server.url(name), sha256=sha256(data), members=MEMBERS)


def _visible(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir() if p.name != ".downloads")


def test_installs_and_is_idempotent(server, cache: Path) -> None:
    src = _publish(server, "good.tar.gz", GOOD)
    folder = install("toy", FILES, [src], progress=False)
    assert folder == cache / "toy"
    assert (folder / "b.txt").read_bytes() == GOOD["pkg/b.txt"]
    assert _visible(cache) == ["toy"]  # no staging left behind
    (server.root / "good.tar.gz").unlink()
    assert install("toy", FILES, [Url("http://127.0.0.1:9/never", keep_as="x")],
                   progress=False) == folder  # cached: no source is even tried


def test_server_down_falls_through_to_next(server, cache: Path, dead_url: str) -> None:
    good = _publish(server, "good.tar.gz", GOOD)
    down = Url(dead_url, sha256="0" * 64, members=MEMBERS, timeout=5)
    assert install("toy", FILES, [down, good], progress=False).is_dir()


def test_checksum_mismatch_from_server_falls_through(server, cache: Path) -> None:
    tampered = dict(GOOD, **{"pkg/a.txt": b"ALPHA\n"})
    bad_files = _publish(server, "bad.tar.gz", tampered)  # archive pin right, member wrong
    bad_archive = Url(server.url("good.tar.gz"), sha256="1" * 64, members=MEMBERS)
    good = _publish(server, "good.tar.gz", GOOD)
    assert install("toy", FILES, [bad_files, bad_archive, good], progress=False).is_dir()
    assert (cache / "toy" / "a.txt").read_bytes() == b"alpha\n"


def test_all_sources_fail_lists_each(server, cache: Path, dead_url: str) -> None:
    tampered = _publish(server, "bad.tar.gz", dict(GOOD, **{"pkg/a.txt": b"ALPHA\n"}))
    sources = [Url(dead_url, keep_as="a.txt", timeout=5), tampered,
               Url(server.url("missing.tar.gz"), sha256="0" * 64, members=MEMBERS)]
    with pytest.raises(FetchError) as err:
        install("toy", FILES, sources, progress=False)
    msg = str(err.value)
    assert "(1) url http://127.0.0.1" in msg and "cannot connect" in msg
    assert "(2)" in msg and "a.txt has sha256" in msg
    assert "(3)" in msg and "HTTP 404" in msg
    assert "dojo data fetch toy" in msg
    assert _visible(cache) == []  # nothing half-written


def test_interrupted_fetch_leaves_no_partial_cache(server, cache: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    noise = random.Random(0).randbytes(400_000)  # incompressible: many 64 KiB blocks
    src = _publish(server, "good.tar.gz", {**GOOD, "pkg/pad": noise})

    calls = {"n": 0}
    original = sources.download

    def interrupted(url, dest, **kw):
        def boom(_: int) -> None:
            calls["n"] += 1
            if calls["n"] == 2:  # half-way through the body
                raise KeyboardInterrupt

        return original(url, dest, **{**kw, "on_block": boom})

    monkeypatch.setattr(sources, "download", interrupted)
    with pytest.raises(KeyboardInterrupt):
        install("toy", FILES, [src], progress=False)
    assert _visible(cache) == []
    assert list((cache / ".downloads").iterdir()) == []  # no partial archive either
    monkeypatch.setattr(sources, "download", original)
    assert install("toy", FILES, [src], progress=False).is_dir()  # and a retry works


def test_corrupt_cache_is_replaced_atomically(server, cache: Path) -> None:
    src = _publish(server, "good.tar.gz", GOOD)
    install("toy", FILES, [src], progress=False)
    (cache / "toy" / "a.txt").write_bytes(b"oops!\n")
    install("toy", FILES, [src], progress=False)
    assert (cache / "toy" / "a.txt").read_bytes() == b"alpha\n"
    assert _visible(cache) == ["toy"]


def test_failed_refetch_leaves_existing_cache_untouched(server, cache: Path, dead_url: str
                                                        ) -> None:
    src = _publish(server, "good.tar.gz", GOOD)
    install("toy", FILES, [src], progress=False)
    before = {p.name: p.read_bytes() for p in (cache / "toy").iterdir()}
    with pytest.raises(FetchError):
        install("toy", FILES, [Url(dead_url, keep_as="a.txt", timeout=5)], progress=False,
                force=True)
    assert {p.name: p.read_bytes() for p in (cache / "toy").iterdir()} == before
    assert _visible(cache) == ["toy"]


def test_no_sources(cache: Path) -> None:
    with pytest.raises(FetchError, match="no source is declared"):
        install("toy", FILES, [], progress=False)
