"""``nlpdojo.arrays``: which library an array is from, host copies and ``like``, on every device.

The NumPy and strict cases need no torch; the torch cases run on the CPU and, where there is
one, on a CUDA device (skipped cleanly otherwise).
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys

import numpy as np
import pytest

from nlpdojo.arrays import device_of, is_numpy, is_torch, like, namespace_of, to_numpy


def _cuda_available() -> bool:
    if importlib.util.find_spec("torch") is None:
        return False
    import torch

    return torch.cuda.is_available()


DEVICES = [
    "cpu",
    pytest.param("cuda", marks=[pytest.mark.cuda, pytest.mark.skipif(
        not _cuda_available(), reason="no CUDA device here")]),
]


@pytest.fixture(params=DEVICES)
def device(request) -> str:
    pytest.importorskip("torch")
    return request.param


# -- without torch -----------------------------------------------------------------------------

def test_importing_the_core_helpers_does_not_import_torch():
    code = ("import sys, numpy as np; from nlpdojo.arrays import is_torch, to_numpy; "
            "assert not is_torch(np.zeros(2)); to_numpy([1.0]); "
            "assert 'torch' not in sys.modules, 'torch was imported'")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_numpy_arrays_and_plain_values():
    x = np.arange(6.0).reshape(2, 3)  # (2, 3)
    assert is_numpy(x) and is_numpy(np.float64(1.0)) and not is_torch(x)
    assert not is_numpy([1.0]) and not is_torch([1.0])
    assert device_of(x) == "cpu"
    assert namespace_of(x).__name__ == "array_api_compat.numpy"
    copy = to_numpy(x)
    assert copy is not x and not np.shares_memory(copy, x)
    assert to_numpy(x, copy=False) is x
    np.testing.assert_array_equal(to_numpy([[1, 2]]), np.array([[1, 2]]))


def test_strict_arrays_go_through_dlpack():
    xps = pytest.importorskip("array_api_strict")
    x = xps.asarray([[1.0, 2.0]], dtype=xps.float32)  # (1, 2)
    host = to_numpy(x)
    assert isinstance(host, np.ndarray) and host.dtype == np.float32
    np.testing.assert_array_equal(host, [[1.0, 2.0]])
    y = like(x, np.array([3, 4]))  # int64 -> the strict float32 of ref
    assert namespace_of(y) is xps and y.dtype == xps.float32


def test_like_copies_into_numpy():
    ref = np.zeros(3, dtype=np.float32)
    value = np.array([1.0, 2.0, 3.0])  # float64
    out = like(ref, value)
    assert out.dtype == np.float32 and not np.shares_memory(out, value)


def test_arrays_of_two_libraries_have_no_common_namespace():
    torch = pytest.importorskip("torch")
    with pytest.raises(TypeError):
        namespace_of(np.zeros(2), torch.zeros(2))


# -- torch, on every device --------------------------------------------------------------------

def test_torch_tensor_is_recognised(device):
    import torch

    t = torch.zeros(2, 3, device=device)  # (2, 3)
    assert is_torch(t) and not is_numpy(t)
    assert is_torch(torch.nn.Parameter(t))
    assert device_of(t).startswith(device)
    assert namespace_of(t).__name__ == "array_api_compat.torch"


def test_to_numpy_of_a_tensor_that_requires_grad(device):
    import torch

    t = torch.arange(6.0, dtype=torch.float64, device=device).reshape(2, 3).requires_grad_()
    host = to_numpy(t * 2)  # (2, 3), part of a graph
    assert isinstance(host, np.ndarray) and host.dtype == np.float64
    np.testing.assert_array_equal(host, np.arange(6.0).reshape(2, 3) * 2)


def test_to_numpy_copies_unless_asked_to_share(device):
    import torch

    t = torch.zeros(3, dtype=torch.float64, device=device)
    owned = to_numpy(t)
    owned[0] = 1.0
    assert float(t[0]) == 0.0
    shared = to_numpy(t, copy=False)
    if device == "cpu":  # a view of the tensor's memory; from a GPU always a copy
        shared[1] = 5.0
        assert float(t[1]) == 5.0


def test_like_brings_host_values_to_the_reference_device(device):
    import torch

    ref = torch.zeros(2, 2, dtype=torch.float32, device=device)  # (2, 2)
    value = np.arange(4.0).reshape(2, 2)  # float64 on the host
    out = like(ref, value)
    assert is_torch(out) and out.dtype == torch.float32 and out.device == ref.device
    np.testing.assert_array_equal(to_numpy(out), value)


def test_like_from_tensor_to_tensor_copies_and_detaches(device):
    import torch

    ref = torch.zeros(3, dtype=torch.float64, device=device)
    value = torch.ones(3, dtype=torch.float32, requires_grad=True)  # on the CPU
    out = like(ref, value)
    assert out.device == ref.device and out.dtype == torch.float64 and not out.requires_grad
    out += 1
    assert float(value.detach()[0]) == 1.0  # no shared memory


def test_like_loads_a_tensor_into_numpy(device):
    import torch

    ref = np.zeros(2, dtype=np.float64)
    out = like(ref, torch.tensor([1.5, 2.5], device=device, requires_grad=True))
    assert is_numpy(out) and out.dtype == np.float64
    np.testing.assert_array_equal(out, [1.5, 2.5])


# -- the NumPy namespace, imported without the submodules no array code uses ---------------------
def _fresh_python(code: str) -> str:
    """What ``code`` prints in a new interpreter (a fresh ``sys.modules``)."""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=False, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_numpy_namespace_imports_no_deferred_submodule_until_asked():
    out = _fresh_python("""
import sys
from nlpdojo.arrays import DEFERRED_SUBMODULES, numpy_namespace
xp = numpy_namespace()
print(sorted(n for n in DEFERRED_SUBMODULES if f"numpy.{n}" in sys.modules))
print(all(n in dir(xp) for n in ("f2py", "testing", "ma", "polynomial")))
import numpy
print(xp.testing is numpy.testing, xp.ma is numpy.ma, "numpy.testing" in sys.modules)
print(xp.matmul is not None, xp.__array_api_version__)
try:
    xp.no_such_name
except AttributeError as e:
    print(e)
""").splitlines()
    assert out[0] == "[]", "a deferred submodule was imported with the namespace"
    assert out[1] == "True", "a deferred name left dir(xp)"
    assert out[2] == "True True True"
    assert out[3].startswith("True 20")
    assert out[4] == "module 'array_api_compat.numpy' has no attribute 'no_such_name'"


def test_the_namespace_has_the_names_and_objects_of_a_plain_import():
    """Built by numpy_namespace, or by a plain `import array_api_compat.numpy` in a new
    interpreter: the same public names, each the same object (modules compared by name)."""
    listing = """
import types
for name in sorted(dir(xp)):
    value = getattr(xp, name)
    print(name, value.__name__ if isinstance(value, types.ModuleType) else id(value) if
          callable(value) and getattr(value, "__module__", "").startswith("numpy") else
          type(value).__name__)
"""
    deferred = _fresh_python("from nlpdojo.arrays import numpy_namespace\nxp = numpy_namespace()"
                             + listing)
    plain = _fresh_python("import array_api_compat.numpy as xp" + listing)
    names = lambda text: [line.split()[0] for line in text.splitlines()]  # noqa: E731
    assert names(deferred) == names(plain)
    kinds = lambda text: [line.split()[1] if not line.split()[1].isdigit() else "id"  # noqa: E731
                          for line in text.splitlines()]
    assert kinds(deferred) == kinds(plain)


def test_scipy_imported_through_the_backend_leaves_the_submodules_deferred():
    """The NumPy backend's scatter imports scipy.sparse, whose own copy of array-api-compat
    copies NumPy's names too: deferred there as well, and served when asked for."""
    out = _fresh_python("""
import sys
from nlpdojo.arrays import DEFERRED_SUBMODULES, import_deferring
sparse = import_deferring("scipy.sparse")
print(sorted(n for n in DEFERRED_SUBMODULES if f"numpy.{n}" in sys.modules))
import scipy._lib.array_api_compat.numpy as vendored
import numpy
print(vendored.testing is numpy.testing)
print(sparse.csc_matrix(numpy.eye(2)).toarray().sum())
""").splitlines()
    assert out == ["[]", "True", "2.0"]
