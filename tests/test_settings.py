"""The instructor's course configuration and the precedence every setting follows (option >
environment > course configuration > default; issue 62 hole 1, issue 64 item 3): where it is
found, what it may hold, and that a grading's resolution reads no project file."""

from __future__ import annotations

from pathlib import Path

import pytest

from nlpdojo import settings
from nlpdojo.errors import ConfigError
from nlpdojo.selection import resolve
from nlpdojo.settings import CONFIG_ENV, Choice, CourseConfig, pick


@pytest.fixture
def project(tmp_path, monkeypatch) -> Path:
    """A student's project folder, holding a dojo.toml that names torch, as the working folder."""
    root = tmp_path / "project"
    root.mkdir()
    (root / "dojo.toml").write_text('backend = "torch"\ndevice = "cuda"\n')
    monkeypatch.chdir(root)
    return root


def course(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "course.toml"
    path.write_text(text)
    return path


def test_each_setting_takes_the_first_of_option_environment_course_config_default(
        tmp_path, monkeypatch):
    config = CourseConfig(course(tmp_path, "timeout_scale = 3\nmemory_mb = 2048\n"))
    monkeypatch.setenv("SCALE", "2.5")
    assert pick("timeout_scale", 4.0, "SCALE", 1.0, config) == Choice(4.0, "flag")
    assert pick("timeout_scale", None, "SCALE", 1.0, config) == Choice(2.5, "env SCALE")
    monkeypatch.setenv("SCALE", "")  # an empty variable counts as unset
    assert pick("timeout_scale", None, "SCALE", 1.0, config) == Choice(
        3.0, f"config {tmp_path / 'course.toml'}")
    assert pick("output", None, None, "x", config) == Choice("x", "default")


def test_the_course_configuration_is_found_by_option_then_environment_then_user_folder(
        tmp_path, monkeypatch):
    user = course(tmp_path, 'backend = "torch"\n')
    monkeypatch.setattr(settings, "user_config_file", lambda: user)
    monkeypatch.delenv(CONFIG_ENV)
    assert CourseConfig().get("backend") == Choice("torch", f"config {user}")
    named = tmp_path / "named.toml"
    named.write_text('backend = "strict"\n')
    monkeypatch.setenv(CONFIG_ENV, str(named))
    assert CourseConfig().get("backend") == Choice("strict", f"config {named}")
    given = tmp_path / "given.toml"
    given.write_text("")
    assert CourseConfig(given).get("backend") is None  # --config's file sets none


@pytest.mark.parametrize("text,message", [
    ("timeout = 2\n", "holds timeout, which nlpdojo does not know; it takes backend, device"),
    ("memory_mb = -1\n", "'memory_mb' must be a whole number of megabytes"),
    ("memory_mb = 1.5\n", "'memory_mb' must be a whole number"),
    ("timeout_scale = 0\n", "'timeout_scale' must be a number of at least 0.01"),
    ('backend = ""\n', "'backend' must be a non-empty string"),
    ("backend = [\n", "cannot be read"),
])
def test_a_bad_course_configuration_is_one_error_naming_the_file_and_the_fix(
        tmp_path, text, message):
    path = course(tmp_path, text)
    with pytest.raises(ConfigError, match=str(path)) as caught:
        CourseConfig(path).get("backend")
    assert message in str(caught.value)


def test_a_course_configuration_that_is_named_must_exist(tmp_path, monkeypatch):
    monkeypatch.setenv(CONFIG_ENV, str(tmp_path / "missing.toml"))
    with pytest.raises(ConfigError, match=r"missing.toml \(from env NLPDOJO_CONFIG\) is not "
                                          "a file"):
        CourseConfig().get("backend")
    with pytest.raises(ConfigError, match=r"\(from --config\)"):
        CourseConfig(tmp_path / "missing.toml").get("backend")


def test_a_bad_environment_value_names_the_variable(monkeypatch):
    monkeypatch.setenv("NLPDOJO_MEMORY_MB", "lots")
    with pytest.raises(ConfigError, match="NLPDOJO_MEMORY_MB='lots' must be a whole number"):
        pick("memory_mb", None, "NLPDOJO_MEMORY_MB", 4096, None)


def test_a_grading_reads_no_project_file_and_other_work_does(project, tmp_path):
    """The student's dojo.toml steers `dojo train` (their own work) and never a grading,
    which falls through to the course configuration and the defaults."""
    config = CourseConfig(course(tmp_path, 'device = "cpu"\n'))
    own = resolve(config=config)
    assert own.backend == Choice("torch", str(project / "dojo.toml"))
    assert own.device == Choice("cuda", str(project / "dojo.toml"))  # the project file first
    graded = resolve(project=False, config=config)
    assert graded.backend == Choice("numpy", "default")
    assert graded.device == Choice("cpu", f"config {tmp_path / 'course.toml'}")


def test_the_file_is_read_only_when_a_setting_falls_through_to_it(tmp_path):
    """A cohort's child is given every setting as an option: a course configuration it cannot
    read (another machine's path) costs it nothing."""
    config = CourseConfig(tmp_path / "elsewhere.toml")
    assert resolve("numpy", "cpu", "float64", project=False, config=config).backend.source \
        == "flag"
    with pytest.raises(ConfigError):
        resolve("numpy", "cpu", project=False, config=config)  # the dtype falls through
