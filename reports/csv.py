"""CSV exports: the drill-down rows behind a figure and each table (series, breakdown), as a
streaming response (Django's documented "streaming large CSV files" pattern: rows are written
as they are produced, so a 100k-row export never sits in memory as one string).

    reports.csv.drill_response(rows, filename)        # figures.drill()
    reports.csv.table_response(table, filename)       # figures.series() / figures.breakdown()

Cells that a spreadsheet would run as a formula (=, +, -, @, tab, CR at the start of a text
cell: OWASP "CSV injection") are prefixed with a quote; subjects are customer-written."""

from __future__ import annotations

import csv as _csv
from collections.abc import Iterable, Iterator

from django.http import StreamingHttpResponse

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class _Echo:
    def write(self, value):
        return value


def _cell(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return " ".join(str(_cell(v)) for v in value)
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def lines(header: list[str], rows: Iterable[dict]) -> Iterator[str]:
    writer = _csv.writer(_Echo())
    yield "\ufeff" + writer.writerow(header)  # the BOM makes Excel read UTF-8
    for row in rows:
        yield writer.writerow([_cell(row.get(column)) for column in header])


def drill_header(rows: list[dict]) -> list[str]:
    header: list[str] = []
    for row in rows[:1] or [{"ticket": None, "subject": None, "at": None}]:
        header.extend(k for k in row if k not in header)
    for row in rows[1:]:  # some values exist on some rows only (an SLA target's state...)
        header.extend(k for k in row if k not in header)
    return header


def table_rows(table: dict) -> tuple[list[str], list[dict]]:
    """A series or a breakdown as flat rows (SLA's per-target rates become columns)."""
    rows = table.get("points") if "points" in table else table.get("rows", [])
    flat = []
    for row in rows:
        one = {k: v for k, v in row.items() if k != "by_target"}
        for kind, rate in (row.get("by_target") or {}).items():
            one[f"{kind}_value"], one[f"{kind}_achieved"], one[f"{kind}_total"] = (
                rate["value"], rate["numerator"], rate["denominator"])
        flat.append(one)
    header: list[str] = ["start", "end", "value"] if "points" in table else ["key", "label", "value"]
    for row in flat:
        header.extend(k for k in row if k not in header)
    return header, flat


def _response(chunks: Iterator[str], filename: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(chunks, content_type="text/csv; charset=utf-8")
    safe = "".join(c for c in filename if c.isalnum() or c in "-_.") or "report.csv"
    response["Content-Disposition"] = f'attachment; filename="{safe}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


def drill_response(rows: list[dict], filename: str = "report-tickets.csv") -> StreamingHttpResponse:
    return _response(lines(drill_header(rows), rows), filename)


def table_response(table: dict, filename: str = "report-table.csv") -> StreamingHttpResponse:
    header, rows = table_rows(table)
    return _response(lines(header, rows), filename)
