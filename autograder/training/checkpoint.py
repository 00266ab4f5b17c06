"""One checkpoint format for every ``dojo train`` command: named arrays and a JSON header.

A checkpoint is one ``.npz`` file that ``np.load(path, allow_pickle=False)`` reads (no
pickles, so loading a checkpoint never runs code):

==================  =========================================================================
``meta``            a JSON object: ``{"version": 2, ...}`` and the trainer's settings (the
                    model's name, its sizes, the vocabulary size, the epochs done...)
``param/<name>``    the model's parameters, by :meth:`nlpdojo.module.Module.state_dict` name
``optim/<i>/<key>`` the optimizer's state of parameter ``i`` (:meth:`nlpdojo.optim.Optimizer.
                    state_dict`); its scalars (``lr``, ``steps``) are ``meta["optimizer_state"]``
anything else       the trainer's own arrays (a vocabulary, n-gram counts)
==================  =========================================================================

It is written to a temporary file beside the target and renamed, so an interrupted save never
leaves half a checkpoint. Reading it back (:func:`read_checkpoint`) turns a missing file, a
folder, a file that is not a checkpoint, and a version this code does not read into one
:class:`~nlpdojo_autograder.training.train.TrainError` naming the command that writes them
(:class:`CheckpointFiles`). Version 1 (before the kit: ``model/<name>`` parameters and the
optimizer's scalars as ``meta["optimizer_lr"]``/``["optimizer_steps"]``, or no version at all)
is still read.

Resuming a run (:func:`save_training`, :func:`restore`) puts back the parameters, the
optimizer's state and how many dropout masks each layer has drawn (its masks come from
``(seed, calls)``), so a resumed run continues exactly as the uninterrupted one::

    FILES = CheckpointFiles("dojo train tagger", what="a tagger checkpoint")
    save_training(path, {"epochs_done": 1, **settings}, model, opt)
    ckpt = read_checkpoint(path, FILES)
    restore(ckpt, model, opt, path, "this tagger", "; was it saved with other --dim?")
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from nlpdojo_autograder.training.train import TrainError, shown_output

#: the version :func:`save_checkpoint` writes; :func:`read_checkpoint` reads 1 and 2
VERSION = 2
PARAM, OPTIM, META = "param/", "optim/", "meta"


@dataclass(frozen=True)
class CheckpointFiles:
    """Who writes a kind of checkpoint, for the errors: ``command`` (``dojo train lm``),
    an ``example`` command line (default ``command``) and ``what`` a checkpoint of it is
    called (default "a checkpoint of `<command>`")."""

    command: str
    example: str = ""
    what: str = ""

    @property
    def called(self) -> str:
        return self.what or f"a checkpoint of `{self.command}`"


@dataclass
class Checkpoint:
    """What :func:`read_checkpoint` found: ``meta`` (the JSON header), ``params``
    (name → array), ``optimizer`` (an ``Optimizer.state_dict()``, or ``None`` when none was
    saved) and the trainer's other ``arrays``."""

    meta: dict[str, Any]
    params: dict[str, np.ndarray] = field(default_factory=dict)
    optimizer: dict[str, Any] | None = None
    arrays: dict[str, np.ndarray] = field(default_factory=dict)


def save_checkpoint(path: Path, meta: dict[str, Any], *,
                    params: dict[str, np.ndarray] | None = None,
                    optimizer: dict[str, Any] | None = None,
                    arrays: dict[str, np.ndarray] | None = None,
                    compress: bool = False) -> None:
    """Write ``meta`` (JSON-able), ``params``, an optimizer's ``state_dict()`` and the
    trainer's ``arrays`` to ``path`` (atomically; ``compress``: zip-deflate, for counts)."""
    out: dict[str, np.ndarray] = dict(arrays or {})
    out |= {PARAM + name: np.asarray(value) for name, value in (params or {}).items()}
    header = {**meta, "version": VERSION}
    if optimizer is not None:
        for i, entries in optimizer["state"].items():
            out |= {f"{OPTIM}{i}/{key}": np.asarray(v) for key, v in entries.items()}
        header["optimizer_state"] = {k: v for k, v in optimizer.items() if k != "state"}
    out[META] = np.asarray(json.dumps(header))
    tmp = path.with_name(path.name + ".partial.npz")
    with open(tmp, "wb") as f:  # a file object: np.savez would add ".npz" to a bare name
        (np.savez_compressed if compress else np.savez)(f, **out)
    tmp.replace(path)


def _exists(path: Path, files: CheckpointFiles) -> None:
    if path.is_dir():
        raise TrainError(f"{path} is a folder: pass a checkpoint file written by "
                         f"`{files.command} --output FILE`")
    if not path.is_file():
        name = shown_output(path)
        where = (f"{name} in the outputs folder {path.parent} (nor in the working folder)"
                 if name != str(path) else str(path))
        raise TrainError(f"no checkpoint {where}: train one first, e.g. "
                         f"`{files.example or files.command} --output {name}`")


def _header(path: Path, raw: Any, files: CheckpointFiles) -> dict[str, Any]:
    meta = json.loads(str(raw))
    if not isinstance(meta, dict):
        raise TrainError(f"{path} is not {files.called} (its meta is not a JSON object)")
    version = meta.get("version", 1)
    if version not in (1, VERSION):
        raise TrainError(f"{path}: checkpoint version {version}, this nlpdojo reads versions "
                         f"1 and {VERSION}; train it again with `{files.command}`")
    return meta


def _read(path: Path, files: CheckpointFiles, everything: bool
          ) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    _exists(path, files)
    try:
        with np.load(path, allow_pickle=False) as data:
            meta = _header(path, data[META], files)
            return meta, {k: data[k] for k in data.files if everything and k != META}
    except TrainError:
        raise
    except Exception as exc:  # noqa: BLE001 - any unreadable file gets the same message
        why = ("it holds pickled Python objects, which nlpdojo never loads"
               if "allow_pickle" in str(exc) else str(exc).strip().splitlines()[0][:200]
               if str(exc).strip() else type(exc).__name__)
        raise TrainError(f"{path} is not {files.called} ({why})") from exc


def read_meta(path: Path, files: CheckpointFiles) -> dict[str, Any]:
    """Only the JSON header of checkpoint ``path`` (its arrays are not read)."""
    return _read(path, files, everything=False)[0]


def read_checkpoint(path: Path, files: CheckpointFiles) -> Checkpoint:
    """The checkpoint at ``path`` (version 1 or 2); anything else is a clear error."""
    meta, arrays = _read(path, files, everything=True)
    legacy = meta.get("version", 1) == 1
    prefix = "model/" if legacy and "optimizer_lr" in meta else PARAM  # version 1's tagger
    params = {k[len(prefix):]: arrays.pop(k) for k in list(arrays) if k.startswith(prefix)}
    entries: dict[int, dict[str, Any]] = {}
    for key in [k for k in arrays if k.startswith(OPTIM)]:
        _, i, name = key.split("/", 2)
        entries.setdefault(int(i), {})[name] = arrays.pop(key)
    scalars = ({"lr": meta["optimizer_lr"], "steps": meta["optimizer_steps"]}
               if legacy and "optimizer_lr" in meta else meta.get("optimizer_state"))
    optimizer = None if scalars is None else {**scalars, "state": entries}
    return Checkpoint(meta, params, optimizer, arrays)


def load_parameters(model: Any, params: dict[str, np.ndarray], path: Path, what: str,
                    hint: str = "") -> None:
    """``model.load_state_dict(params)``; names or shapes that do not fit are a
    :class:`TrainError`: "``path`` does not match ``what`` (why)``hint``"."""
    try:
        model.load_state_dict(params)
    except (KeyError, ValueError) as exc:
        raise TrainError(f"{path} does not match {what} ({exc}){hint}") from exc


def _counted(model: Any) -> list[Any]:
    """The layers that count their random draws (dropout: ``calls``), in module order."""
    return [m for m in model.modules() if isinstance(getattr(m, "calls", None), int)]


def save_training(path: Path, meta: dict[str, Any], model: Any, optimizer: Any) -> None:
    """A checkpoint a run can resume from: ``model``'s parameters, ``optimizer``'s state and
    how many masks each dropout layer has drawn, with ``meta``."""
    calls = [int(m.calls) for m in _counted(model)]
    save_checkpoint(path, {**meta, "mask_calls": calls}, params=model.state_dict(),
                    optimizer=optimizer.state_dict())


def restore(ckpt: Checkpoint, model: Any, optimizer: Any | None, path: Path, what: str,
            hint: str = "") -> None:
    """Put a checkpoint back into ``model`` (and ``optimizer``, when given): parameters
    (:func:`load_parameters`), optimizer state and the dropout layers' draw counts."""
    load_parameters(model, ckpt.params, path, what, hint)
    if optimizer is not None and ckpt.optimizer is not None:
        optimizer.load_state_dict(ckpt.optimizer)
    for layer, n in zip(_counted(model), ckpt.meta.get("mask_calls", []), strict=False):
        layer.calls = int(n)
