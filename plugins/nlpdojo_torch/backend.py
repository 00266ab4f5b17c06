"""PyTorch backend: ``array_api_compat.torch`` as the namespace, one device, seeded generators.

Adds what only torch has: autograd as a second gradient oracle (``nlpdojo.gradcheck``) and
native fast paths registered under the reference names for ``backend="torch"``.
"""

from __future__ import annotations

from typing import Any

import array_api_compat.torch as atorch
import torch

from nlpdojo.backend import Array, Backend, Random, Shape

_DTYPES = {"float32": torch.float32, "float64": torch.float64}


class TorchRandom(Random):
    def __init__(self, seed: int, device: torch.device, default_dtype: torch.dtype) -> None:
        self._gen = torch.Generator(device=device)
        self._gen.manual_seed(seed)
        self._device = device
        self._dtype = default_dtype

    def normal(self, shape: Shape, *, std: float = 1.0, dtype: Any = None) -> Array:
        out = torch.randn(tuple(shape), generator=self._gen, device=self._device,
                          dtype=dtype or self._dtype)
        return out * std

    def uniform(self, shape: Shape, *, low: float = 0.0, high: float = 1.0,
                dtype: Any = None) -> Array:
        out = torch.rand(tuple(shape), generator=self._gen, device=self._device,
                         dtype=dtype or self._dtype)
        return out * (high - low) + low

    def integers(self, low: int, high: int, shape: Shape) -> Array:
        return torch.randint(low, high, tuple(shape), generator=self._gen, device=self._device)

    def permutation(self, n: int) -> Array:
        return torch.randperm(n, generator=self._gen, device=self._device)


class TorchBackend(Backend):
    name = "torch"
    xp = atorch

    def __init__(self, device: str = "cpu", dtype: str | None = None) -> None:
        self.torch_device = torch.device(device)
        self.device = str(self.torch_device)
        self.default_dtype = _DTYPES[dtype or "float32"]

    def rng(self, seed: int) -> Random:
        return TorchRandom(seed, self.torch_device, self.default_dtype)

    def asarray(self, obj: Any, *, dtype: Any = None) -> Array:
        if isinstance(obj, torch.Tensor):
            return obj.to(device=self.torch_device, dtype=dtype or obj.dtype)
        return torch.as_tensor(obj, dtype=dtype, device=self.torch_device)

    def to_numpy(self, x: Array) -> Any:
        return x.detach().cpu().numpy()

    def scatter_add(self, target: Array, index: Array, values: Array, *,
                    alpha: float = 1.0) -> Array:
        index = index.reshape(-1)
        values = values.to(target.dtype).reshape(index.shape[0], *target.shape[1:])
        return target.index_add_(0, index, values, alpha=alpha)  # NumPy's casting, too

    def scatter_add_weighted(self, target: Array, index: Array, weights: Array, rows: Array,
                             *, alpha: float = 1.0) -> Array:
        B, M = index.shape
        products = (weights[:, :, None] * rows[:, None, :]).to(target.dtype)  # (B, M, D)
        return target.index_add_(0, index.reshape(-1),  # the block is cheap on a GPU
                                 products.reshape(B * M, *target.shape[1:]), alpha=alpha)

    def synchronize(self) -> None:
        if self.torch_device.type == "cuda":
            torch.cuda.synchronize(self.torch_device)

    def initialize_device(self, memory_bytes: int | None = None) -> None:
        if self.torch_device.type != "cuda":
            return
        torch.cuda.init()
        if memory_bytes:
            total = torch.cuda.get_device_properties(self.torch_device).total_memory
            torch.cuda.set_per_process_memory_fraction(min(1.0, memory_bytes / total),
                                                       self.torch_device)
        torch.zeros(1, device=self.torch_device)  # the context, before any limit is measured
        self.synchronize()

    def describe(self) -> dict[str, Any]:
        info = {**super().describe(), "version": torch.__version__}
        if self.torch_device.type == "cuda":
            info["device_name"] = torch.cuda.get_device_name(self.torch_device)
        return info
