"""A real third-party plugin, end to end: docs/examples/nlpdojo-lion is built into a wheel,
installed into a folder of its own, and found through the ``nlpdojo`` entry-point group exactly
as the built-ins are, by the registry and by the ``dojo`` console script."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import numpy as np
import pytest

from nlpdojo import plugins
from nlpdojo.errors import UnknownNameError
from nlpdojo.selection import load_backend
from tests._wheels import REPO, build_wheel, install_wheel, top_level_names, wheel_entry_points

LION_SRC = REPO / "docs" / "examples" / "nlpdojo-lion"


@pytest.fixture(scope="session")
def lion_wheel(tmp_path_factory) -> Path:
    return build_wheel(LION_SRC, tmp_path_factory.mktemp("lion-build"))


@pytest.fixture(scope="session")
def lion_site(lion_wheel, tmp_path_factory) -> Path:
    """A site directory holding only nlpdojo-lion (``pip install --no-deps --target``)."""
    return install_wheel(lion_wheel, tmp_path_factory.mktemp("lion") / "site")


@pytest.fixture
def lion_on_path(lion_site, monkeypatch) -> Path:
    """nlpdojo-lion importable in this process; its modules are forgotten afterwards."""
    monkeypatch.syspath_prepend(str(lion_site))
    yield lion_site
    for name in [m for m in sys.modules if m == "nlpdojo_lion" or m.startswith("nlpdojo_lion.")]:
        del sys.modules[name]


def _load_only(monkeypatch, restrict: str | None) -> None:
    if restrict is None:
        monkeypatch.delenv(plugins.RESTRICT_ENV, raising=False)
    else:
        monkeypatch.setenv(plugins.RESTRICT_ENV, restrict)
    plugins.reset()


def test_wheel_is_a_plugin_package(lion_wheel):
    assert top_level_names(lion_wheel) == {"nlpdojo_lion"}
    assert wheel_entry_points(lion_wheel)["nlpdojo"] == {"lion": "nlpdojo_lion.plugin"}


def test_registry_finds_lion_when_selected(lion_on_path, monkeypatch):
    _load_only(monkeypatch, "lion")
    entry = plugins.get_registry().entry("optimizer", "lion")
    assert entry.plugin == "lion"
    assert entry.backend is None  # array-namespace code: every backend
    assert (entry.obj.__module__, entry.obj.__name__) == ("nlpdojo_lion.optimizer", "Lion")
    assert Path(sys.modules["nlpdojo_lion"].__file__).is_relative_to(lion_on_path)
    assert plugins.plugin_origin("lion") == "nlpdojo-lion 0.1.0"
    # the built-ins are still there, and the plugin's name did not displace any
    assert plugins.get_registry().entry("backend", "numpy").plugin == "numpy"
    assert plugins.get_registry().entry("module", "layer_norm").plugin == "lion"


def test_all_third_party_plugins_load_when_unrestricted(lion_on_path, monkeypatch):
    _load_only(monkeypatch, None)
    assert plugins.get_registry().entry("optimizer", "lion").plugin == "lion"


def test_not_loaded_when_restricted_to_none(lion_on_path, monkeypatch):
    _load_only(monkeypatch, "")
    assert plugins.get_manager().get_plugin("lion") is None
    assert "nlpdojo_lion" not in sys.modules  # not even imported
    with pytest.raises(UnknownNameError, match=r"unknown optimizer 'lion'.*none are registered"):
        plugins.get_registry().get("optimizer", "lion")


def test_not_loaded_when_restricted_to_others(lion_on_path, monkeypatch):
    _load_only(monkeypatch, "something-else")
    with pytest.warns(plugins.PluginWarning, match="something-else"):
        assert "lion" not in plugins.get_registry().names("optimizer")


def _train(backend_name: str, optimizer: str, steps: int = 60, **opt_kwargs) -> list[float]:
    """Losses of a 2-class softmax regression on separable data, trained by ``optimizer``."""
    from nlpdojo_solutions.library.layers import Linear
    from nlpdojo_solutions.library.losses import SoftmaxCrossEntropy

    backend = load_backend(backend_name, dtype="float64")
    model = Linear(backend, 4, 2, seed=0)  # the course library's reference layer and loss
    loss_fn = SoftmaxCrossEntropy(backend)
    opt = plugins.get_registry().get("optimizer", optimizer, backend_name)(model.parameters(),
                                                                         **opt_kwargs)
    gen = np.random.default_rng(0)
    x_np = gen.standard_normal((32, 4))
    y_np = (x_np[:, 0] + x_np[:, 1] > 0).astype(np.int64)
    x, y = backend.asarray(x_np), backend.asarray(y_np)
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        scores, cache = model(x)
        loss, loss_cache = loss_fn(scores, y)
        losses.append(float(loss))  # a device sync: fine in a test
        model.backward(loss_fn.backward(1.0, loss_cache), cache)
        opt.step()
    return losses


@pytest.mark.parametrize("backend_name", ["numpy", pytest.param("torch", marks=pytest.mark.torch)])
def test_lion_trains(lion_on_path, monkeypatch, backend_name):
    if backend_name == "torch":
        pytest.importorskip("torch")
    _load_only(monkeypatch, "lion")
    losses = _train(backend_name, "lion", lr=0.02)
    assert all(np.isfinite(losses))
    assert losses[-1] < 0.5 * losses[0], losses


def test_lion_step_matches_the_paper(lion_on_path, monkeypatch):
    """One update by hand (Chen et al. 2023, Algorithm 2) against the plugin's, twice over."""
    _load_only(monkeypatch, "lion")
    from nlpdojo.module import Parameter

    backend = load_backend("numpy")
    gen = np.random.default_rng(1)
    theta0 = gen.standard_normal((3, 2))
    p = Parameter(backend.asarray(theta0.copy()), "w")
    lion = plugins.get_registry().get("optimizer", "lion")(
        [p], lr=0.1, betas=(0.9, 0.99), weight_decay=0.5
    )
    theta, m = theta0.copy(), np.zeros_like(theta0)
    for _ in range(2):
        g = gen.standard_normal((3, 2))
        p.grad = backend.asarray(g.copy())
        lion.step()
        c = 0.9 * m + 0.1 * g
        theta = theta - 0.1 * (np.sign(c) + 0.5 * theta)
        m = 0.99 * m + 0.01 * g
    np.testing.assert_allclose(p.data, theta, rtol=0, atol=1e-15)
    np.testing.assert_allclose(lion.state_dict()["state"][0]["momentum"], m, rtol=0, atol=1e-15)


def _dojo(*args: str, site: Path, restrict: str) -> subprocess.CompletedProcess:
    script = Path(sysconfig.get_path("scripts")) / "dojo"
    assert script.exists(), f"the dojo console script is not installed at {script}: make venv"
    env = {**os.environ, "PYTHONPATH": str(site), plugins.RESTRICT_ENV: restrict}
    return subprocess.run([str(script), *args], capture_output=True, text=True, env=env,
                          timeout=120, check=False)


def test_dojo_plugins_lists_it(lion_site):
    proc = _dojo("plugins", "--json", site=lion_site, restrict="lion")
    assert proc.returncode == 0, proc.stderr
    rows = {r["name"]: r for r in json.loads(proc.stdout)["plugins"]}
    assert rows["lion"]["origin"] == "nlpdojo-lion 0.1.0"
    assert rows["lion"]["registered"] == {"module": ["layer_norm"], "optimizer": ["lion"]}
    assert rows["numpy"]["origin"] == "built-in"


def test_dojo_plugins_leaves_it_out_when_restricted(lion_site):
    proc = _dojo("plugins", "--json", site=lion_site, restrict="")
    assert proc.returncode == 0, proc.stderr
    assert "lion" not in {r["name"] for r in json.loads(proc.stdout)["plugins"]}


@pytest.mark.parametrize("backend_name", ["numpy", pytest.param("torch", marks=pytest.mark.torch)])
def test_the_plugins_layer_passes_the_gradient_check(lion_on_path, monkeypatch, backend_name):
    """The layer plugin under the module contract: every gradient (gain, shift, input) against
    central differences, accumulation and the cache checked by ``check_module``."""
    if backend_name == "torch":
        pytest.importorskip("torch")
    _load_only(monkeypatch, "lion")
    from nlpdojo.gradcheck import check_module

    backend = load_backend(backend_name, dtype="float64")
    layer = plugins.get_registry().get("module", "layer_norm")(backend, 5)
    gen = np.random.default_rng(3)
    layer.gain.data = backend.asarray(gen.uniform(0.5, 1.5, 5))
    layer.shift.data = backend.asarray(gen.standard_normal(5))
    x = backend.asarray(gen.standard_normal((2, 3, 5)) * 3.0 + 1.0)
    results = check_module(layer, (x,))
    assert {r.name for r in results} >= {"gain", "shift", "input[0]"}
    assert all(r.passed for r in results), [r.message for r in results]


def test_the_plugins_layer_matches_torch(lion_on_path, monkeypatch):
    """Forward and every gradient against ``torch.nn.functional.layer_norm`` (float64)."""
    torch = pytest.importorskip("torch")
    _load_only(monkeypatch, "lion")
    backend = load_backend("numpy", dtype="float64")
    layer = plugins.get_registry().get("module", "layer_norm")(backend, 4)
    gen = np.random.default_rng(4)
    gain, shift = gen.uniform(0.5, 1.5, 4), gen.standard_normal(4)
    layer.gain.data, layer.shift.data = gain, shift
    x, g = gen.standard_normal((6, 4)), gen.standard_normal((6, 4))
    y, cache = layer(x)
    grad_x = layer.backward(g, cache)
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, gain, shift))
    ty = torch.nn.functional.layer_norm(tx, (4,), tw, tb, eps=1e-5)
    ty.backward(torch.tensor(g))
    np.testing.assert_allclose(y, ty.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(grad_x, tx.grad.numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(layer.gain.grad, tw.grad.numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(layer.shift.grad, tb.grad.numpy(), rtol=1e-9, atol=1e-12)
