#!/usr/bin/env python3
"""bench/csv_from_jsonl.py IN_DIR OUT_DIR — the bench's RA logs (JSON Lines,
DESIGN §5) as the CSV export an RA system would write, for the CSV source's
step of `make bench`: each logs/ra-*.jsonl becomes OUT_DIR/logs/ra-*.csv
(UTF-8, a header of the canonical field names, times in Asia/Shanghai
without an offset, lists joined with ';'), and OUT_DIR/map.yaml maps it.
Fractions of a second are dropped, as the store keeps whole seconds."""
import csv
import json
import multiprocessing
import os
import sys
from datetime import datetime, timedelta, timezone

FIELDS = ["at", "kind", "app", "serial", "actor", "method", "result", "reason",
          "items", "covers", "cps_version", "contract", "new_serial",
          "recipient.name", "recipient.id_type", "recipient.id", "sha256",
          "applicant.type", "applicant.name", "applicant.id_type",
          "applicant.id", "cert_type", "sector", "channel"]
SHANGHAI = timezone(timedelta(hours=8))


def cell(obj, field):
    if "." in field:
        outer, inner = field.split(".")
        v = (obj.get(outer) or {}).get(inner)
    else:
        v = obj.get(field)
    if v is None:
        return ""
    if field == "at":
        t = datetime.fromisoformat(v.replace("Z", "+00:00"))
        return t.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(v, list):
        return ";".join(v)
    return v


def convert(src, dst):
    with open(src, encoding="utf-8") as fin, \
            open(dst, "w", encoding="utf-8", newline="") as fout:
        out = csv.writer(fout, lineterminator="\n")
        out.writerow(FIELDS)
        for line in fin:
            if line.strip():
                obj = json.loads(line)
                out.writerow([cell(obj, f) for f in FIELDS])


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: csv_from_jsonl.py IN_DIR OUT_DIR")
    src, dst = sys.argv[1], sys.argv[2]
    os.makedirs(os.path.join(dst, "logs"), exist_ok=True)
    jobs = [(os.path.join(src, "logs", name),
             os.path.join(dst, "logs", name[:-len(".jsonl")] + ".csv"))
            for name in sorted(os.listdir(os.path.join(src, "logs")))
            if name.endswith(".jsonl")]
    with multiprocessing.Pool() as pool:  # a log per processor at once
        pool.starmap(convert, jobs)
    with open(os.path.join(dst, "map.yaml"), "w", encoding="utf-8") as m:
        m.write("# made by bench/csv_from_jsonl.py: the canonical names as headers\n"
                "encoding: utf-8\n"
                "time: {format: \"%Y-%m-%d %H:%M:%S\", zone: Asia/Shanghai}\n"
                "lists: {items: \";\", covers: \";\"}\n"
                "columns:\n")
        for f in FIELDS:
            m.write(f"  {f}: {f}\n")


if __name__ == "__main__":
    main()
