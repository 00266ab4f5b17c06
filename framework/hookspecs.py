"""The hooks a plugin can implement. Each receives a ``register`` callback bound to the plugin.

Every ``register_*`` hook is called once, when the plugin manager loads (lazily, on the first
registry look-up). ``register(name, obj, *, backend=None, natives=None, **meta)`` records
``obj`` under ``name``. With ``backend=None``, ``obj`` is the name's generic entry, written
against the array namespace and run on every backend; ``natives={"torch": obj_torch}`` adds
native variants in the same call (simonw/llm's ``register(model, async_model=...)``). With a
backend name, ``obj`` is that backend's native variant alone (for a name another plugin owns).
Look-ups return the generic entry; a native is used only on request
(``registry.get(kind, name, backend, native=True)``) and must be proven equal to the generic
entry by a parity test (:mod:`nlpdojo.gradcheck.parity`). Registering a name (or one backend's
native of it) twice, from any two plugins, is an error that names both.

A plugin is a module (or any object) with functions decorated by :data:`hookimpl`::

    from nlpdojo.hookspecs import hookimpl

    @hookimpl
    def register_optimizers(register):
        register("lion", Lion)
"""

from __future__ import annotations

from typing import Any, Protocol

import pluggy

hookspec = pluggy.HookspecMarker("nlpdojo")
hookimpl = pluggy.HookimplMarker("nlpdojo")


class Register(Protocol):
    """The callback every ``register_*`` hook receives."""

    def __call__(self, name: str, obj: Any, *, backend: str | None = None,
                 natives: dict[str, Any] | None = None, **meta: Any) -> None: ...


@hookspec
def plugin_modules() -> list[tuple[str, Any]]:
    """More plugins this plugin brings, each registered as a plugin of its own: ``(name,
    module)`` pairs, names unique among all plugins.

    A course package implements it to register every topic folder it holds (the built-in
    course, ``nlpdojo_course``, returns ``("course.<topic>", <module>)`` for each of its topic
    folders), so adding a topic edits no central file; each module then implements the
    ``register_*`` hooks like any plugin. Called once, after every entry-point plugin is
    loaded; the returned modules' own ``plugin_modules`` is not called.

    A module that fails to import is returned as ``(name, exception)``, the exception's
    message saying where (file and line): it is left out with a warning, and so is a brought
    module whose ``register_*`` hook raises, while the others load; a look-up of what it would
    have registered says why it is missing (``Registry.broken``).
    """


@hookspec
def register_backends(register: Register) -> None:
    """Register :class:`nlpdojo.backend.BackendSpec` objects (``register(spec.name, spec)``).

    A spec must be importable without its library: availability is asked later.
    """


@hookspec
def register_modules(register: Register) -> None:
    """Register layer and model classes (subclasses of :class:`nlpdojo.module.Module`).

    Natives (torch's LSTM, conv1d) go in ``natives=`` of the reference's registration, or with
    ``backend=`` from another plugin; they are used only on request, never for code under test.
    """


@hookspec
def register_losses(register: Register) -> None:
    """Register loss classes (subclasses of :class:`nlpdojo.loss.Loss`)."""


@hookspec
def register_optimizers(register: Register) -> None:
    """Register optimizer classes (subclasses of :class:`nlpdojo.optim.Optimizer`)."""


@hookspec
def register_datasets(register: Register) -> None:
    """Register :class:`nlpdojo.dataset.Dataset` objects: sources, checksums, parsing."""


@hookspec
def register_exercises(register: Register) -> None:
    """Register exercise definitions (checks, fixtures, reference package) for the grader."""


@hookspec
def register_reporters(register: Register) -> None:
    """Register report writers (terminal table, JSON, JUnit XML, Gradescope...)."""


@hookspec
def register_trainers(register: Register) -> None:
    """Register training commands: ``register(trainer.name, trainer)`` with a
    :class:`nlpdojo.trainers.Trainer` (name, topic, one-line summary, typer-style command).

    ``dojo train`` lists them; ``dojo train NAME [OPTIONS]`` runs one. Called once, when the
    registry is first used (``dojo train`` builds it); the trainer's module should import its
    heavy dependencies inside the command.
    """


@hookspec
def register_model_kinds(register: Register) -> None:
    """Add model kinds to another plugin's training command: ``register(name, kind,
    trainer="lm")`` makes ``dojo train lm --model NAME`` (and ``dojo sample`` of its
    checkpoints) train ``kind``, a ``ModelKind`` of the training kit
    (``nlpdojo_autograder.training``) or its ``"module:attribute"``, imported only when used.
    A later topic adds its models to an earlier topic's command this way, importing nothing of
    it; a kind's name is unique among all the commands' kinds.
    """


@hookspec
def register_commands(cli: Any) -> None:
    """Add commands or command groups to the ``dojo`` typer app ``cli``.

    Called when ``dojo`` starts. Keep imports inside the commands so start-up stays fast.
    """


@hookspec(firstresult=True)
def check_notebook(notebook: Any, questions: list[str], runs: list[tuple[Any, Any, str]],
                   backend: str | None, device: str | None, cache: bool, show: Any) -> Any:
    """Grade a notebook from inside its own kernel (``nlpdojo.check``); the first result wins.

    Called on every ``check(...)``, in the kernel's process: the implementation must grade in
    processes of its own (the kernel's namespace is the student's). :param notebook: the saved
    notebook's path (its tagged cells say which code is which module). :param questions:
    question ids to grade, none for every question. :param runs: the code run in the kernel,
    oldest first, as ``(execution count, front-end cell id or None, source)``: the tagged
    cells are graded as last run. :param backend, device: as ``grade --backend/--device``
    (``None``: the usual resolution). :param cache: reuse unchanged verdicts as ``grade``
    does. :param show: call it with an object to display while grading (progress); it
    replaces what the cell shows. Returns an object to display (``_repr_html_`` for the
    notebook, ``repr`` as text): the report.
    """
