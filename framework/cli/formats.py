"""One ``--format`` option for every ``dojo`` command that prints data: ``table`` for people,
``json`` for scripts (as ``grade --format json``). ``--json``, the older spelling, is kept as
a hidden alias: :func:`chosen` joins the two."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

import typer


class DataFormat(StrEnum):
    """How a command prints what it lists."""

    table = "table"
    json = "json"


def format_option(what: str) -> Any:
    """The ``--format``/``-f`` option of a command that prints ``what``."""
    return Annotated[DataFormat, typer.Option(
        "--format", "-f", help=f"table or json: how to print {what}.")]


#: ``--json``: kept for scripts written before ``--format``; the same as ``--format json``
JsonAlias = Annotated[bool, typer.Option("--json", hidden=True,
                                         help="The same as --format json.")]


def chosen(fmt: DataFormat, as_json: bool) -> DataFormat:
    """The format asked for, ``--json`` counting as ``--format json``."""
    return DataFormat.json if as_json else fmt
