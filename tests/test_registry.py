"""The registry: names owned by the core, clashes naming both plugins, unknown names listing
what exists, and native variants that are used only on request."""

from __future__ import annotations

import pytest

from nlpdojo.errors import DuplicateNameError, NlpdojoError, PluginError, UnknownNameError
from nlpdojo.hookspecs import hookimpl
from nlpdojo.plugins import build_registry, make_manager
from nlpdojo.registry import Registry


def plugin(**hooks) -> object:
    """An in-memory plugin: each keyword is a hook name, each value its implementation.

    (An instance of a fresh class, compared by identity: pluggy refuses one object twice.)
    """
    namespace = {name: staticmethod(hookimpl(fn)) for name, fn in hooks.items()}
    return type("InMemoryPlugin", (), namespace)()


def course_plugin() -> object:
    """A plugin standing in for a course's own (the built-ins register no layers, losses or
    optimizers: those are the students' to write, in the course library)."""
    return plugin(register_modules=lambda register: register("linear", GenericThing),
                  register_losses=lambda register: register("softmax_cross_entropy",
                                                            GenericThing),
                  register_optimizers=lambda register: register("sgd", GenericThing))


def registry_with(**extra) -> Registry:
    """The built-ins, plugin ``nn`` (:func:`course_plugin`) and ``extra``."""
    return build_registry(make_manager(extra_plugins={"nn": course_plugin(), **extra}))


class FusedLinear:  # stand-ins: the registry stores any object
    pass


class GenericThing:
    pass


# -- duplicates ------------------------------------------------------------------------------

def test_duplicate_between_two_plugins_names_both():
    first = plugin(register_optimizers=lambda register: register("adamw", object()))
    second = plugin(register_optimizers=lambda register: register("adamw", object()))
    with pytest.raises(DuplicateNameError) as info:
        registry_with(teacher_a=first, teacher_b=second)
    message = str(info.value)
    assert "optimizer 'adamw'" in message
    assert "'teacher_a'" in message and "'teacher_b'" in message
    assert isinstance(info.value, PluginError)


def test_duplicate_of_a_builtin_names_the_builtin():
    clash = plugin(register_backends=lambda register: register("numpy", object()))
    with pytest.raises(DuplicateNameError, match=r"by plugin 'numpy' and by plugin 'my_numpy'"):
        registry_with(my_numpy=clash)


def test_duplicate_of_another_plugins_optimizer_names_both():
    clash = plugin(register_optimizers=lambda register: register("sgd", object()))
    with pytest.raises(DuplicateNameError, match=r"by plugin 'nn' and by plugin 'my_sgd'"):
        registry_with(my_sgd=clash)


def test_duplicate_native_implementation_names_backend():
    def native(register):
        register("linear", FusedLinear, backend="torch")

    with pytest.raises(DuplicateNameError,
                       match=r"module 'linear' \(native\) for backend 'torch'.*'fast_a'.*'fast_b'"):
        registry_with(fast_a=plugin(register_modules=native),
                      fast_b=plugin(register_modules=native))


def test_same_name_in_different_kinds_is_fine():
    both = plugin(register_losses=lambda register: register("hinge", GenericThing),
                  register_reporters=lambda register: register("hinge", GenericThing))
    reg = registry_with(both=both)
    assert reg.get("loss", "hinge") is reg.get("reporter", "hinge") is GenericThing


# -- unknown names -------------------------------------------------------------------------

def test_unknown_name_lists_what_exists():
    reg = registry_with()
    with pytest.raises(UnknownNameError) as info:
        reg.get("optimizer", "adamw", backend="numpy")
    message = str(info.value)
    assert "unknown optimizer 'adamw' on backend 'numpy'" in message
    assert "sgd" in message
    assert "dojo plugins" in message
    # one error, two useful bases: the CLI's NlpdojoError, and KeyError for mapping-style code
    assert isinstance(info.value, NlpdojoError) and isinstance(info.value, KeyError)
    assert not message.startswith("'")  # KeyError would otherwise quote the message


def test_unknown_name_lists_generic_names_and_natives_of_that_backend():
    torch_only = plugin(register_modules=lambda register: register("cudnn_lstm", FusedLinear,
                                                                   backend="torch"))
    reg = registry_with(torch_only=torch_only)
    with pytest.raises(UnknownNameError) as on_numpy:
        reg.get("module", "rnn", backend="numpy")
    assert "linear" in str(on_numpy.value) and "cudnn_lstm" not in str(on_numpy.value)
    with pytest.raises(UnknownNameError) as on_torch:
        reg.get("module", "rnn", backend="torch")
    assert "Available on backend 'torch': linear;" in str(on_torch.value)
    assert "native only (native=True) on backend 'torch': cudnn_lstm" in str(on_torch.value)


def test_a_native_without_a_generic_entry_is_found_only_on_request():
    torch_only = plugin(register_modules=lambda register: register("cudnn_lstm", FusedLinear,
                                                                   backend="torch"))
    reg = registry_with(torch_only=torch_only)
    found = reg.entry("module", "cudnn_lstm", backend="torch", native=True)
    assert found.obj is FusedLinear and found.is_native and found.backend == "torch"
    for backend in ("torch", "numpy", None):  # not asked for: never silently
        with pytest.raises(UnknownNameError,
                           match=r"no generic implementation, only native ones .* for backend\(s\) "
                                 r"torch: ask with get\('module', 'cudnn_lstm', backend='torch', "
                                 r"native=True\)"):
            reg.get("module", "cudnn_lstm", backend=backend)
    for backend in ("numpy", None):  # asked for, on a backend it does not exist for
        with pytest.raises(UnknownNameError,
                           match=r"native implementations for backend\(s\) torch only"):
            reg.get("module", "cudnn_lstm", backend=backend, native=True)


def test_unknown_kind_with_nothing_registered():
    with pytest.raises(UnknownNameError, match="none are registered"):
        Registry().get("dataset", "wikitext")


# -- native variants ---------------------------------------------------------------------------

def test_generic_entry_is_what_a_lookup_returns_even_with_a_native():
    def both(register):
        register("linear2", GenericThing)
        register("linear2", FusedLinear, backend="torch")

    reg = registry_with(fast=plugin(register_modules=both))
    for backend in ("torch", "numpy", None):
        assert reg.get("module", "linear2", backend=backend) is GenericThing
    assert not reg.entry("module", "linear2", backend="torch").is_native
    assert reg.entry("module", "linear2", backend="torch").backend_label == "any"


def test_native_on_request_for_its_backend_only():
    def both(register):
        register("linear2", GenericThing)
        register("linear2", FusedLinear, backend="torch")

    reg = registry_with(fast=plugin(register_modules=both))
    native = reg.entry("module", "linear2", backend="torch", native=True)
    assert native.obj is FusedLinear and native.is_native and native.backend_label == "torch"
    # no native for numpy: the generic entry, and the flag says so
    fallback = reg.entry("module", "linear2", backend="numpy", native=True)
    assert fallback.obj is GenericThing and not fallback.is_native
    assert reg.get("module", "linear2", native=True) is GenericThing  # no backend: generic


def test_one_registration_carries_the_natives():
    reg = registry_with(fast=plugin(register_modules=lambda register: register(
        "lstm2", GenericThing, natives={"torch": FusedLinear}, paper="Hochreiter 1997")))
    assert reg.get("module", "lstm2", backend="torch") is GenericThing
    native = reg.entry("module", "lstm2", backend="torch", native=True)
    assert native.obj is FusedLinear and native.plugin == "fast"
    assert native.meta == {"paper": "Hochreiter 1997"}
    assert set(reg.natives("module", "lstm2")) == {"torch"}
    assert reg.natives("module", "linear") == {}


def test_natives_with_a_backend_are_refused():
    sloppy = plugin(register_modules=lambda register: register(
        "lstm2", GenericThing, backend="torch", natives={"cuda": FusedLinear}))
    with pytest.raises(PluginError, match=r"natives are variants of the generic entry"):
        registry_with(sloppy=sloppy)


def test_native_of_a_builtin_from_another_plugin():
    fast = plugin(
        register_modules=lambda register: register("linear", FusedLinear, backend="torch"))
    reg = registry_with(fast=fast)
    assert reg.entry("module", "linear", backend="torch").plugin == "nn"
    assert reg.entry("module", "linear", backend="torch", native=True).plugin == "fast"
    assert reg.entry("module", "linear", backend="numpy", native=True).plugin == "nn"
    assert reg.names("module", "numpy") == reg.names("module", "torch") == ["linear"]


def test_names_lists_natives_only_when_asked():
    torch_only = plugin(register_modules=lambda register: register("cudnn_lstm", FusedLinear,
                                                                   backend="torch"))
    reg = registry_with(torch_only=torch_only)
    assert reg.names("module") == reg.names("module", "torch") == ["linear"]
    # with the torch plugin's own natives, gru and lstm
    assert reg.names("module", "torch", native=True) == ["cudnn_lstm", "gru", "linear", "lstm"]
    assert reg.names("module", "numpy", native=True) == ["linear"]
    assert reg.names("module", native=True) == ["cudnn_lstm", "gru", "linear", "lstm"]


# -- what the callback records -----------------------------------------------------------------

def test_entries_record_plugin_and_meta_in_registration_order():
    def register_two(register):
        register("b_first", GenericThing, paper="arXiv:0000.00000")
        register("a_second", FusedLinear)

    reg = registry_with(mine=plugin(register_optimizers=register_two))
    mine = reg.by_plugin()["mine"]
    assert [(e.kind, e.name) for e in mine] == [("optimizer", "b_first"), ("optimizer", "a_second")]
    assert mine[0].meta == {"paper": "arXiv:0000.00000"}
    assert reg.names("optimizer") == ["a_second", "b_first", "sgd"]


@pytest.mark.parametrize("bad", ["", " lion", "lion ", 3])
def test_invalid_names_are_refused_naming_the_plugin(bad):
    sloppy = plugin(register_optimizers=lambda register: register(bad, GenericThing))
    with pytest.raises(PluginError,
                       match=r"plugin 'sloppy' registered a optimizer with invalid name"):
        registry_with(sloppy=sloppy)


def test_unknown_kind_is_refused():
    with pytest.raises(PluginError, match=r"unknown kind 'layer'"):
        Registry().add("layer", "linear", object(), plugin="p")


def test_builtin_registry_contents():
    """The built-ins register backends, data sets and reports, and no layer, loss or
    optimizer: a reference one would answer a question of the course (issue: the course
    library); those are the student's, in ``library/``."""
    reg = build_registry(make_manager())
    assert reg.names("backend") == ["numpy", "strict", "torch"]
    assert {e.plugin for e in reg.entries("backend")} == {"numpy", "torch"}
    assert reg.names("module") == reg.names("loss") == reg.names("optimizer") == []
    assert len(reg) == len(list(reg)) == len(reg.entries())
