"""Where training commands write (issue 26): a bare file name, the default included, goes to
the outputs folder, never into the folder ``grade`` looks at; a path with a folder part is used
as given; a bare name read back (``dojo sample kn3.npz``) is found where it was written."""

from __future__ import annotations

from pathlib import Path

import pytest

from nlpdojo_autograder.training import (
    OUTPUTS_ENV,
    input_path,
    output_path,
    outputs_root,
    shown_output,
)


@pytest.fixture
def outputs(tmp_path, monkeypatch) -> Path:
    root = tmp_path / "outputs"
    monkeypatch.setenv(OUTPUTS_ENV, str(root))
    monkeypatch.chdir(tmp_path)
    return root


def test_a_bare_name_goes_to_the_outputs_folder_which_is_created(outputs):
    assert not outputs.exists()
    assert output_path(None, "tagger.npz") == outputs / "tagger.npz"
    assert outputs.is_dir()
    assert output_path("kn3.npz", "lm.npz") == outputs / "kn3.npz"
    assert shown_output(outputs / "kn3.npz") == "kn3.npz"


@pytest.mark.parametrize("given", ["./kn3.npz", "runs/kn3.npz", "../kn3.npz"])
def test_a_path_with_a_folder_is_used_as_given(outputs, given):
    assert output_path(given, "lm.npz") == Path(given)
    assert input_path(given) == Path(given)
    # what a closing line shows (`dojo sample SHOWN`) finds the same file, not one of the
    # outputs folder: ./kn3.npz stays ./kn3.npz (a bare kn3.npz would be looked up there)
    assert shown_output(Path(given)) == given
    assert input_path(shown_output(Path(given))) == Path(given)


def test_an_absolute_path_is_used_as_given(outputs, tmp_path):
    assert output_path(str(tmp_path / "x.npz"), "lm.npz") == tmp_path / "x.npz"


def test_a_bare_name_is_read_from_the_outputs_folder_first(outputs, tmp_path):
    outputs.mkdir()
    (tmp_path / "kn3.npz").write_bytes(b"here")
    # only in the working folder (written before the outputs folder existed): found there
    assert input_path("kn3.npz") == Path("kn3.npz")
    (outputs / "kn3.npz").write_bytes(b"kept")
    assert input_path("kn3.npz") == outputs / "kn3.npz"
    # nowhere: the outputs folder, which the error then names
    assert input_path("missing.npz") == outputs / "missing.npz"


def test_the_default_outputs_folder_is_the_users_data_folder(monkeypatch, tmp_path):
    monkeypatch.delenv(OUTPUTS_ENV, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data-home"))
    assert outputs_root() == tmp_path / "data-home" / "nlpdojo" / "outputs"
    monkeypatch.setenv(OUTPUTS_ENV, "  ")  # blank: the default
    assert outputs_root() == tmp_path / "data-home" / "nlpdojo" / "outputs"
