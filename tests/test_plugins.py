"""Loading plugins: entry points, NLPDOJO_PLUGINS, and errors that name the plugin and the fix.

Third-party distributions are faked with a ``*.dist-info`` folder (METADATA plus
entry_points.txt) in a temporary site directory: importlib.metadata finds them exactly as it
finds a pip-installed package.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from nlpdojo import plugins
from nlpdojo.errors import PluginError
from nlpdojo.hookspecs import hookimpl

BUILTINS = {"numpy", "torch", "datasets", "reports", "autograder", "course"}

GOOD_PLUGIN = '''
from nlpdojo.hookspecs import hookimpl

@hookimpl
def register_datasets(register):
    register("toy_corpus", object())
'''


@pytest.fixture
def site(tmp_path, monkeypatch):
    """A site directory on sys.path; modules imported from it are forgotten afterwards."""
    folder = tmp_path / "site"
    folder.mkdir()
    monkeypatch.syspath_prepend(str(folder))
    yield folder
    for name in [m for m in sys.modules if m.startswith("fake_")]:
        del sys.modules[name]


def fake_distribution(site: Path, dist: str, version: str, entry_points: dict[str, str],
                      modules: dict[str, str]) -> None:
    """Install ``dist`` into ``site``: its metadata, ``nlpdojo`` entry points and modules."""
    info = site / f"{dist.replace('-', '_')}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
    lines = ["[nlpdojo]", *(f"{name} = {value}" for name, value in entry_points.items())]
    (info / "entry_points.txt").write_text("\n".join(lines) + "\n")
    for module, source in modules.items():
        (site / f"{module}.py").write_text(source)


def loaded(restrict: str | None, monkeypatch) -> set[str]:
    if restrict is None:
        monkeypatch.delenv(plugins.RESTRICT_ENV, raising=False)
    else:
        monkeypatch.setenv(plugins.RESTRICT_ENV, restrict)
    pm = plugins.make_manager()
    # the entry-point plugins (the modules a plugin brings, ``course.<topic>``, left out)
    return {name for name in (pm.get_name(p) for p in pm.get_plugins()) if "." not in name}


# -- built-ins --------------------------------------------------------------------------------

def test_builtins_load_through_entry_points():
    pm = plugins.get_manager()
    names = {pm.get_name(p) for p in pm.get_plugins()}
    assert {n for n in names if "." not in n} == BUILTINS
    assert pm.get_plugin("numpy").__name__ == "nlpdojo_numpy.plugin"
    assert all(plugins.plugin_origin(name) == "built-in" for name in names)


def test_the_course_brings_each_topic_folder_as_a_plugin_of_its_own():
    """Adding a topic is adding a folder: the course plugin finds it (plugin_modules), and
    the worker's manager (bring=False) never imports it."""
    pm = plugins.get_manager()
    topics = {n for n in (pm.get_name(p) for p in pm.get_plugins()) if "." in n}
    assert {"course.word_vectors"} <= topics
    assert all(n.startswith("course.") for n in topics)
    assert pm.get_plugin("course.word_vectors").__name__ == "nlpdojo_course.word_vectors"
    bare = plugins.make_manager(bring=False)
    assert {bare.get_name(p) for p in bare.get_plugins()} == BUILTINS
    assert [m.__name__ for m in plugins.bringing_plugins(bare)] == ["nlpdojo_course.plugin"]


def test_manager_and_registry_load_once_until_reset():
    registry = plugins.get_registry()
    assert plugins.get_registry() is registry
    assert plugins.get_manager() is plugins.get_manager()
    plugins.reset()
    assert plugins.get_registry() is not registry


# -- NLPDOJO_PLUGINS -------------------------------------------------------------------------

@pytest.fixture
def two_third_party(site):
    fake_distribution(site, "fake-hello", "1.2.3", {"hello": "fake_hello"},
                      {"fake_hello": GOOD_PLUGIN})
    fake_distribution(site, "fake-other", "0.1", {"other": "fake_other"},
                      {"fake_other": GOOD_PLUGIN.replace("toy_corpus", "other_corpus")})


def test_unset_loads_every_plugin(two_third_party, monkeypatch):
    assert loaded(None, monkeypatch) == BUILTINS | {"hello", "other"}


def test_restriction_selects_third_party_plugins(two_third_party, monkeypatch):
    assert loaded("hello", monkeypatch) == BUILTINS | {"hello"}
    assert loaded(" hello , other ,", monkeypatch) == BUILTINS | {"hello", "other"}


def test_empty_restriction_loads_builtins_only(two_third_party, monkeypatch):
    assert loaded("", monkeypatch) == BUILTINS
    assert "fake_hello" not in sys.modules  # not imported at all


def test_restriction_never_drops_a_builtin(two_third_party, monkeypatch):
    assert loaded("numpy", monkeypatch) == BUILTINS


def test_a_name_no_installed_plugin_has_is_warned_about(two_third_party, monkeypatch):
    with pytest.warns(plugins.PluginWarning,
                      match=r"NLPDOJO_PLUGINS names 'helo', which is not an installed plugin; "
                            r"did you mean 'hello'\? installed third-party plugins: hello, other"):
        assert loaded("helo,other", monkeypatch) == BUILTINS | {"other"}


def test_known_names_and_builtins_are_not_warned_about(two_third_party, monkeypatch, recwarn):
    loaded("hello,numpy", monkeypatch)
    loaded("", monkeypatch)
    loaded(None, monkeypatch)
    assert not [w for w in recwarn if issubclass(w.category, plugins.PluginWarning)]


def test_third_party_origin_and_registrations(two_third_party, monkeypatch):
    monkeypatch.setenv(plugins.RESTRICT_ENV, "hello")
    plugins.reset()
    assert plugins.plugin_origin("hello") == "fake-hello 1.2.3"
    assert plugins.get_registry().entry("dataset", "toy_corpus").plugin == "hello"


# -- errors that name the plugin ------------------------------------------------------------

def test_import_failure_names_entry_point_and_how_to_exclude_it(site, monkeypatch):
    fake_distribution(site, "fake-broken", "0.3", {"broken": "fake_broken"},
                      {"fake_broken": "import fake_leftpad_that_is_not_installed\n"})
    monkeypatch.setenv(plugins.RESTRICT_ENV, "broken")
    with pytest.raises(PluginError) as info:
        plugins.make_manager()
    message = str(info.value)
    assert "plugin 'broken'" in message
    assert "entry point 'fake_broken'" in message and "'fake-broken'" in message
    assert "ModuleNotFoundError" in message and "fake_leftpad_that_is_not_installed" in message
    assert "NLPDOJO_PLUGINS=" in message
    assert f"(at {site / 'fake_broken.py'}:1)" in message  # where, not only what
    # ... and the fix it suggests works
    assert loaded("", monkeypatch) == BUILTINS


def test_a_module_a_plugin_brings_that_fails_is_named_by_file_and_line(site, monkeypatch):
    """A pack's topic module with a NameError (a helper renamed): the message says where, and
    NLPDOJO_DEBUG's traceback is chained on it."""
    fake_distribution(site, "fake-pack", "0.1", {"pack": "fake_pack"}, {
        "fake_pack": "from nlpdojo.hookspecs import hookimpl\n\n@hookimpl\n"
                     "def plugin_modules():\n    import fake_pack_topic\n"
                     "    return [('pack.topic', fake_pack_topic)]\n",
        "fake_pack_topic": "X = 1\nY = _cel_at(3)\n"})
    monkeypatch.setenv(plugins.RESTRICT_ENV, "pack")
    with pytest.raises(PluginError) as info:
        plugins.make_manager()
    message = str(info.value)
    assert "plugin 'pack' failed to load its modules: NameError" in message
    assert f"(at {site / 'fake_pack_topic.py'}:2)" in message
    assert "or uninstall the plugin" in message and "NLPDOJO_DEBUG=1" in message
    assert isinstance(info.value.__cause__, NameError)


def test_third_party_plugin_named_like_a_builtin_is_an_error(site, monkeypatch):
    fake_distribution(site, "fake-numpy", "1.0", {"numpy": "fake_nn"}, {"fake_nn": GOOD_PLUGIN})
    monkeypatch.setenv(plugins.RESTRICT_ENV, "numpy")
    with pytest.raises(PluginError,
                       match=r"two plugins are named 'numpy'.*'nlpdojo'.*'fake-numpy'"):
        plugins.make_manager()


def test_misspelled_hook_names_the_plugin():
    @hookimpl
    def register_optimisers(register):  # British spelling: no such hook
        register("lion", object)

    typo = type("TypoPlugin", (), {"register_optimisers": staticmethod(register_optimisers)})()
    with pytest.raises(PluginError) as info:
        plugins.make_manager(extra_plugins={"typo": typo})
    message = str(info.value)
    assert "plugin 'typo' is invalid" in message
    assert "'register_optimisers', which is not an nlpdojo hook" in message
    assert "did you mean 'register_optimizers'?" in message
    assert "\n" not in message  # the CLI prints errors as one line


def test_bad_argument_name_names_the_plugin_and_argument():
    @hookimpl
    def register_optimizers(regster):
        regster("lion", object)

    bad = type("BadArgPlugin", (), {"register_optimizers": staticmethod(register_optimizers)})()
    with pytest.raises(PluginError) as info:
        plugins.make_manager(extra_plugins={"badarg": bad})
    message = str(info.value)
    assert "plugin 'badarg' is invalid" in message
    assert "register_optimizers(regster)" in message
    assert "register_optimizers provides: register" in message
    assert "\n" not in message


def test_invalid_extra_plugin_leaves_the_builtins_registered():
    """A rejected plugin is unregistered; one named like a loaded plugin displaces nothing."""
    clash = type("Clash", (), {})()
    pm = plugins.make_manager()
    with pytest.raises(PluginError, match=r"two plugins are named 'numpy'"):
        plugins._register(pm, clash, "numpy")
    assert pm.get_plugin("numpy").__name__ == "nlpdojo_numpy.plugin"


def test_a_hook_that_raises_names_the_plugin_and_hook():
    @hookimpl
    def register_losses(register):
        raise RuntimeError("forgot to build the kernel")

    buggy = type("Buggy", (), {"register_losses": staticmethod(register_losses)})()
    pm = plugins.make_manager(extra_plugins={"buggy": buggy})
    with pytest.raises(PluginError, match=r"plugin 'buggy' failed in register_losses: "
                                          r"RuntimeError: forgot to build the kernel"):
        plugins.build_registry(pm)


def test_a_hookimpl_may_take_no_arguments():
    """pluggy allows a subset of the spec's arguments; the registry must call it that way."""
    calls = []

    @hookimpl
    def register_reporters():
        calls.append("called")

    quiet = type("Quiet", (), {"register_reporters": staticmethod(register_reporters)})()
    plugins.build_registry(plugins.make_manager(extra_plugins={"quiet": quiet}))
    assert calls == ["called"]
    assert plugins.plugin_origin("quiet") == "local"


# -- the grader's plugins handed to a worker ---------------------------------------------------
def test_plugins_handed_over_load_as_chosen_and_one_not_installed_here_is_left_out(site):
    """A worker loads the entry points the grader chose (``plugins.chosen_plugins``), in its
    order; one whose package it cannot import (the grader's, not on the worker's path) is left
    out, as the worker's own scan would not have found it. A built-in that cannot be imported,
    or a plugin that fails for another reason, is the same error as when scanned."""
    (site / "fake_present.py").write_text(GOOD_PLUGIN)
    (site / "fake_broken.py").write_text("raise RuntimeError('boom')\n")
    builtins = [c for c in plugins.chosen_plugins(plugins.make_manager()) if c.builtin]
    present = plugins.ChosenPlugin("present", "fake_present", "fake-present")
    absent = plugins.ChosenPlugin("absent", "fake_nowhere.plugin", "fake-nowhere")
    pm = plugins.make_manager(chosen=[*builtins, present, absent], bring=False)
    names = [pm.get_name(p) for p in pm.get_plugins()]
    assert "present" in names and "absent" not in names
    assert {c.name for c in builtins} <= set(names)
    registry = plugins.build_registry(pm)
    assert "toy_corpus" in registry.names("dataset")  # the handed-over plugin's hook ran
    with pytest.raises(PluginError, match="'broken'.*RuntimeError: boom"):
        plugins.make_manager(chosen=[plugins.ChosenPlugin("broken", "fake_broken", "x")],
                             bring=False)
    with pytest.raises(PluginError, match="Reinstall nlpdojo"):
        plugins.make_manager(chosen=[plugins.ChosenPlugin("gone", "fake_gone", "nlpdojo")],
                             bring=False)
    assert not plugins.ChosenPlugin("x", "fake_nowhere.plugin", "y").provides("fake_now")
    assert plugins.ChosenPlugin("x", "fake_nowhere.plugin", "y").provides("fake_nowhere")
