"""The CSV files a TA writes for the course record (a manifest of submission times, a file of
extensions, one of overrides), read by one reader that refuses what a spreadsheet gets wrong:
a file that is not UTF-8, a header that is not the one asked for, a row with more cells than
the header has columns (a comma inside an unquoted reason split it, and the cells past the
header were dropped), a file of no rows. Excel's byte-order mark is read; a semicolon is the
delimiter where the header holds more of them than commas (a European Excel's CSV)."""

from __future__ import annotations

import csv
from pathlib import Path

from nlpdojo_autograder.course.config import CourseError


def read_rows(path: Path, what: str, columns: tuple[str, ...]) -> list[tuple[int, list[str]]]:
    """``(line, cells)`` of every row of ``path`` that holds anything, below the header
    ``columns`` (``what``: the file as messages name it, "manifest"). Each row has at most
    as many cells as the header; fewer are the caller's to judge."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise CourseError(f"{what} {path} does not exist") from None
    except IsADirectoryError:
        raise CourseError(f"{what} {path} is a folder: give the CSV file") from None
    except UnicodeDecodeError:
        raise CourseError(f"{what} {path} is not UTF-8 text; save it as CSV (UTF-8)") from None
    head = text.split("\n", 1)[0]
    rows = list(csv.reader(text.splitlines(),
                           delimiter=";" if head.count(";") > head.count(",") else ","))
    header = [cell.strip().lower() for cell in rows[0]] if rows else []
    if header[:len(columns)] != list(columns):
        raise CourseError(f"{what} {path}: its first line must be the header "
                          f"{','.join(columns)}")
    width = len(header)
    found = []
    for line, row in enumerate(rows[1:], 2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) > width and any(cell.strip() for cell in row[width:]):
            raise CourseError(f"{what} {path}, line {line}: {len(row)} cells for {width} "
                              f"columns ({','.join(header)}); a cell holding a comma goes in "
                              "double quotes (nothing was read)")
        found.append((line, row[:width]))
    if not found:
        raise CourseError(f"{what} {path} holds its header and no row: nothing to read")
    return found
