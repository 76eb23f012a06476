#!/usr/bin/python3
"""Prints an XLSX file as JSON so that the C tests can assert on it.

Usage: xlsx_dump.py FILE [MAX_ROWS]

Output: {"properties": {title, creator, subject, created},
         "sheets": [{"name", "max_row", "max_column", "freeze", "autofilter",
                     "widths": {"A": 12.0, ...},
                     "rows": [[[type, value, number_format], ...], ...]}]}
type is openpyxl's data type: "s" string, "n" number, "d" date, "f" formula,
"b" boolean, "e" error; empty cells are null. Only the first MAX_ROWS rows
(default all) of each sheet are listed; max_row always counts them all.
"""
import datetime
import json
import os
import sys

try:
    import openpyxl
except ImportError:
    # python3 on PATH may be a private build (pyenv) without the Debian
    # package python3-openpyxl, which the system interpreter has.
    if os.path.realpath(sys.executable) != os.path.realpath("/usr/bin/python3") \
            and os.path.exists("/usr/bin/python3"):
        os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
    raise


def cell(c):
    if c.value is None:
        return None
    v = c.value
    if isinstance(v, (datetime.datetime, datetime.date, datetime.time)):
        v = v.isoformat()
    return [c.data_type, v, c.number_format]


def main():
    path = sys.argv[1]
    limit = int(sys.argv[2]) if len(sys.argv) > 2 else None
    wb = openpyxl.load_workbook(path)
    p = wb.properties
    out = {"properties": {"title": p.title, "creator": p.creator,
                          "subject": p.subject,
                          "created": p.created.isoformat() if p.created else None},
           "sheets": []}
    for ws in wb.worksheets:
        rows = []
        for i, row in enumerate(ws.iter_rows()):
            if limit is not None and i >= limit:
                break
            rows.append([cell(c) for c in row])
        out["sheets"].append({
            "name": ws.title,
            "max_row": ws.max_row,
            "max_column": ws.max_column,
            "freeze": ws.freeze_panes,
            "autofilter": ws.auto_filter.ref,
            "widths": {k: d.width for k, d in ws.column_dimensions.items()},
            "rows": rows,
        })
    json.dump(out, sys.stdout, ensure_ascii=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
