"""A registry that refuses natives (the grader's worker): a native never stands in for the code
under test, even when graded code asks for one."""

from __future__ import annotations

import pytest

from nlpdojo.errors import NativeRefusedError
from nlpdojo.hookspecs import hookimpl
from nlpdojo.plugins import build_registry, make_manager


class GenericLstm:
    pass


class CudnnLstm:
    pass


class _Plugin:
    @staticmethod
    @hookimpl
    def register_modules(register):
        register("fused_lstm", GenericLstm, natives={"torch": CudnnLstm})


def test_a_native_is_found_on_request_until_natives_are_refused():
    registry = build_registry(make_manager(extra_plugins={"fast": _Plugin()}))
    assert registry.get("module", "fused_lstm", backend="torch", native=True) is CudnnLstm
    registry.refuse_natives("graded code runs its own implementation")
    with pytest.raises(NativeRefusedError, match="graded code runs its own implementation"):
        registry.get("module", "fused_lstm", backend="torch", native=True)
    with pytest.raises(NativeRefusedError, match="'fused_lstm'"):
        registry.entry("module", "fused_lstm", backend="numpy", native=True)
    # the generic entry is still there: refusing natives changes nothing else
    assert registry.get("module", "fused_lstm", backend="torch") is GenericLstm
