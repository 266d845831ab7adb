"""The cost import's command line in-process, and XLSX files made in memory."""

from __future__ import annotations

import argparse
import io

import openpyxl

from data_layer import costs_io


def cli(*argv: str) -> int:
    """`python -m data_layer costs ...` in this process; its exit code."""
    parser = argparse.ArgumentParser()
    costs_io.add_arguments(parser)
    return costs_io.run(parser.parse_args(list(argv)))


def xlsx_bytes(rows: list[list]) -> bytes:
    """An XLSX workbook whose first sheet holds these rows."""
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()
