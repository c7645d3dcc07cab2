"""Benchmark of the notebook runner; prints (and optionally writes) a JSON document.

Measures, on this machine:

- ``run_all_quick``: wall time of ``biblio run --all`` (quick mode, every entry in parallel
  processes) — goal ≤ 20 s;
- ``canteen_full_150k``: wall time of one full (not quick) ``biblio run canteen_attendance``
  on a generated file of about 150,000 rows (more canteens and years than the sample, made by
  ``models.canteen_attendance.sample``) — goal ≤ 20 s.

Each measure runs the real console command in a subprocess. The machine's load average is
recorded before and after, since the cores may be shared.

Usage: ``python benchmarks/runner.py [--only all|large] [--rows 150000] [--json FILE]``
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
GOAL_S = 20.0


def _biblio(*args: str) -> tuple[int, float, str]:
    cmd = [sys.executable, "-m", "hub.runner.cli", *args]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, check=False)
    return proc.returncode, time.perf_counter() - t0, proc.stdout + proc.stderr


def bench_run_all(work: Path) -> dict:
    out = work / "runs"
    code, wall, text = _biblio("run", "--all", "--out", str(out))
    result = {"command": "biblio run --all --out DIR", "exit_code": code, "wall_s": round(wall, 2)}
    summary = out / "resume.json"
    if summary.is_file():
        data = json.loads(summary.read_text(encoding="utf-8"))
        result["parallel_processes"] = data["parallel_processes"]
        result["entries"] = {}
        for entry_id, info in data["entries"].items():
            item = {"exit_code": info["exit_code"], "wall_s": info["wall_s"]}
            run_json = Path(info["out_dir"]) / "run.json"
            if run_json.is_file():
                run = json.loads(run_json.read_text(encoding="utf-8"))
                item["timings"] = run["timings"]
                item["cpu_s"] = run["footprint"]["cpu_s"]
                item["peak_memory_mb"] = run["footprint"]["peak_memory_mb"]
            result["entries"][entry_id] = item
    if code != 0:
        result["output_tail"] = text[-2000:]
    result["goal_s"] = GOAL_S
    result["meets_goal"] = code == 0 and wall <= GOAL_S
    return result


def canteen_file(work: Path, rows: int) -> tuple[Path, int]:
    """A canteen CSV of about ``rows`` rows: 2011-2019 and as many canteens as needed."""
    from models.canteen_attendance import sample as gen

    start, end = "2011-09-01", "2019-07-05"
    days = len(gen.service_days(start, end))
    sites = math.ceil(rows / days)
    frame = gen.generate(n_sites=sites, start=start, end=end)
    path = work / "cantines_150k.csv"
    frame.to_csv(path, index=False, date_format="%Y-%m-%d")
    return path, len(frame)


def bench_large(work: Path, rows: int) -> dict:
    t0 = time.perf_counter()
    path, n = canteen_file(work, rows)
    gen_s = time.perf_counter() - t0
    out = work / "cantine_150k"
    code, wall, text = _biblio("run", "canteen_attendance", "--data", str(path), "--out", str(out))
    result = {
        "command": "biblio run canteen_attendance --data FILE --out DIR (full mode)",
        "rows": n,
        "file_mb": round(path.stat().st_size / 1e6, 1),
        "generation_s": round(gen_s, 2),
        "exit_code": code,
        "wall_s": round(wall, 2),
    }
    run_json = out / "run.json"
    if run_json.is_file():
        run = json.loads(run_json.read_text(encoding="utf-8"))
        result["timings"] = run["timings"]
        result["footprint"] = {
            k: run["footprint"][k]
            for k in ("cpu_s", "cpu_kernel_s", "peak_memory_mb", "energy_kwh", "co2e_kg")
        }
    if code != 0:
        result["output_tail"] = text[-2000:]
    result["goal_s"] = GOAL_S
    result["meets_goal"] = code == 0 and wall <= GOAL_S
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=["all", "large"], default=None)
    parser.add_argument("--rows", type=int, default=150_000)
    parser.add_argument("--json", type=Path, default=None, help="also write the JSON here")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(REPO))
    report: dict = {
        "machine": {"cores": os.cpu_count(), "load_average_before": os.getloadavg()},
        "started": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }
    with tempfile.TemporaryDirectory(prefix="biblio-bench-") as tmp:
        work = Path(tmp)
        if args.only in (None, "all"):
            report["run_all_quick"] = bench_run_all(work)
        if args.only in (None, "large"):
            report["canteen_full_150k"] = bench_large(work, args.rows)
    report["machine"]["load_average_after"] = os.getloadavg()
    text = json.dumps(report, ensure_ascii=False, indent=2)
    print(text)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(text + "\n", encoding="utf-8")
    ok = all(
        v.get("exit_code") == 0
        for k, v in report.items()
        if isinstance(v, dict) and "exit_code" in v
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
