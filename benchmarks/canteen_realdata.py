"""Figures of canteen_attendance on the real Nantes file, per canteen and for the whole city.

Usage: ``.venv/bin/python benchmarks/canteen_realdata.py [path/to/frequentation.csv]
[--cutoff 2018-09-01 ...]`` (default: the file shipped in ``datasets/canteen_attendance/``,
cut-offs 2018-09-01 and 2017-09-01, four months judged after each). Prints JSON: for each
cut-off and view, MAE, over-production %, short days and coverage of the model and of each
baseline, nominal and empirical coverage, and the figures the entry must reach
(``models.canteen_attendance.realdata_figures``; the same table in French:
``python -m models.canteen_attendance.evaluation``).
"""

from __future__ import annotations

import argparse
import json
import time

import models.canteen_attendance as ca
from models.contract import to_jsonable


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("path", nargs="?", default=None)
    parser.add_argument("--cutoff", action="append", default=None)
    args = parser.parse_args(argv)
    results = []
    for cutoff in args.cutoff or ["2018-09-01", "2017-09-01"]:
        start = time.perf_counter()
        result = ca.realdata_figures(args.path, cutoff)
        result["seconds"] = round(time.perf_counter() - start, 1)
        results.append(result)
    return to_jsonable(results)


if __name__ == "__main__":
    print(json.dumps(main(), ensure_ascii=False, indent=2))
