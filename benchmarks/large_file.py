"""Large-file behaviour of ``biblio validate`` and ``biblio run``, as JSON.

Generates a canteen file of about ``--mb`` megabytes by repeating the sample under new canteen
ids, then measures the wall time and the peak memory (the command and its children, sampled
with psutil) of ``biblio validate`` and ``biblio run --quick``. Not a test: a measure.

    .venv/bin/python benchmarks/large_file.py --mb 200 --timeout 900
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
BIBLIO = Path(sys.executable).parent / "biblio"


def make_file(path: Path, mb: float) -> int:
    header, *rows = (ROOT / "datasets/canteen_attendance/sample.csv").read_text().splitlines()
    with open(path, "w", encoding="utf-8") as f:
        f.write(header + "\n")
        n = 0
        while f.tell() < mb * 1e6:  # each copy: new canteen ids (first column) and names
            f.write("".join(f"R{n:04d}{row.replace(' E,', f' {n} E,')}\n" for row in rows))
            n += 1
    return path.stat().st_size


def measure(args: list[str], timeout: float) -> dict:
    t0, peak = time.perf_counter(), 0
    proc = psutil.Popen([str(BIBLIO), *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    while proc.poll() is None:
        if time.perf_counter() - t0 > timeout:
            proc.kill()
            return {"timeout_s": timeout}
        try:
            procs = [proc, *proc.children(recursive=True)]
            peak = max(peak, sum(p.memory_info().rss for p in procs))
        except psutil.Error:
            pass
        time.sleep(0.2)
    return {
        "exit_code": proc.returncode,
        "wall_s": round(time.perf_counter() - t0, 1),
        "peak_memory_mb": round(peak / 1e6),
        "stderr_tail": proc.stderr.read().decode(errors="replace")[-300:],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=200)
    parser.add_argument("--timeout", type=float, default=900)
    a = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="biblio-large-") as tmp:
        data = Path(tmp) / "cantines.csv"
        size = make_file(data, a.mb)
        result = {
            "bytes": size,
            "validate": measure(["validate", "canteen_attendance", str(data)], a.timeout),
            "run": measure(
                [
                    "run",
                    "canteen_attendance",
                    "--quick",
                    "--data",
                    str(data),
                    "--out",
                    str(Path(tmp) / "out"),
                    "--no-keep-failed",
                ],
                a.timeout,
            ),
        }
    print(json.dumps(result, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
