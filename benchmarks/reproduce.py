"""Benchmark of « Essayer sur mes données » (hub.reproduce) on a real hub; JSON on stdout.

Measures, on this machine (cores shared: the load average is recorded):

- ``upload_validation_150k``: a generated canteen file of about 150,000 rows uploaded through
  the proxy, then its validation page (the ``biblio validate`` report) — goal ≤ 3 s;
- ``upload_to_report``: upload → analysis done → report page answered, full settings, on the
  same file (``--runs`` times): p50 — goal ≤ 20 s; and ``overhead_s``: its median minus the
  median of ``biblio run`` on the same file and settings — goal ≤ 1 s;
- ``ten_jobs_five_users``: 10 quick analyses submitted at once by 5 users: all complete,
  none lost, and no start passed over a waiting job of a user who had started fewer jobs
  (``fairness_violations``, the queue's round robin);
- ``memory_50mb_upload``: peak resident memory of the service process while a file just
  under 50 MB is uploaded — goal ≤ 200 MB.

Usage: ``python benchmarks/reproduce.py [--rows 150000] [--runs 3] [--json FILE]``
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil
import requests

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.support.localhub import LocalHub  # noqa: E402

REPRO = "/services/reproduce/"
ENTRY = "canteen_attendance"


def canteen_file(work: Path, rows: int) -> tuple[Path, int]:
    spec = importlib.util.spec_from_file_location("bench_runner", REPO / "benchmarks" / "runner.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.canteen_file(work, rows)


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"token {token}"}


def upload(hub: LocalHub, token: str, path: Path) -> dict:
    with open(path, "rb") as f:
        r = requests.post(
            hub.url + REPRO + f"api/televersement/{ENTRY}",
            headers={**auth(token), "X-Nom-Fichier": path.name},
            data=f,
            timeout=300,
        )
    r.raise_for_status()
    return r.json()


def submit(hub: LocalHub, token: str, upload_id: str, quick: bool) -> dict:
    r = requests.post(
        hub.url + REPRO + f"api/fichiers/{upload_id}/analyse",
        headers=auth(token),
        json={"column_map": {}, "params": {"quick": "1" if quick else ""}},
        timeout=60,
    )
    r.raise_for_status()
    return r.json()


def wait_done(hub: LocalHub, token: str, job_id: str, timeout: float = 900) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        data = requests.get(
            hub.url + REPRO + f"api/analyses/{job_id}", headers=auth(token), timeout=60
        ).json()
        if data["termine"]:
            return data
        time.sleep(0.1)
    raise TimeoutError(job_id)


def bench_upload_validation(hub: LocalHub, token: str, path: Path, rows: int) -> dict:
    t0 = time.perf_counter()
    up = upload(hub, token, path)
    t1 = time.perf_counter()
    page = requests.get(hub.url + REPRO + f"fichier/{up['id']}/validation", headers=auth(token),
                        timeout=300)  # fmt: skip
    t2 = time.perf_counter()
    return {
        "rows": rows,
        "bytes": path.stat().st_size,
        "upload_s": round(t1 - t0, 2),
        "validation_s": round(t2 - t1, 2),
        "total_s": round(t2 - t0, 2),
        "usable": "Fichier utilisable" in page.text,
        "goal_s": 3.0,
    }


def bench_upload_to_report(hub: LocalHub, token: str, path: Path, runs: int, work: Path) -> dict:
    service, direct = [], []
    for _ in range(runs):
        t0 = time.perf_counter()
        up = upload(hub, token, path)
        job = submit(hub, token, up["id"], quick=False)
        final = wait_done(hub, token, job["id"])
        report = requests.get(hub.url + REPRO + f"analyse/{job['id']}/rapport",
                              headers=auth(token), timeout=60)  # fmt: skip
        service.append(time.perf_counter() - t0)
        assert final["etat"] == "done" and report.ok, final
    for i in range(max(1, runs - 1)):
        t0 = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-m", "hub.runner.cli", "run", ENTRY, "--data", str(path),
             "--out", str(work / f"direct{i}")],
            capture_output=True, cwd=REPO, check=False,
        )  # fmt: skip
        direct.append(time.perf_counter() - t0)
        assert proc.returncode == 0, proc.stderr[-2000:]
    p50, base = statistics.median(service), statistics.median(direct)
    return {
        "runs_s": [round(x, 2) for x in service],
        "p50_s": round(p50, 2),
        "biblio_run_s": [round(x, 2) for x in direct],
        "overhead_s": round(p50 - base, 2),
        "goal_p50_s": 20.0,
        "goal_overhead_s": 1.0,
    }


def bench_ten_jobs(hub: LocalHub, tokens: dict[str, str], sample: Path) -> dict:
    uploads = [
        (user, upload(hub, tok, sample)["id"]) for user, tok in tokens.items() for _ in (1, 2)
    ]
    t0, t_sub = time.perf_counter(), time.time()
    with ThreadPoolExecutor(len(uploads)) as pool:  # submitted at once
        ids = list(pool.map(lambda u: submit(hub, tokens[u[0]], u[1], quick=True)["id"], uploads))
    jobs = [(user, job) for (user, _), job in zip(uploads, ids, strict=True)]
    finals = [(user, wait_done(hub, tokens[user], job)) for user, job in jobs]
    wall = time.perf_counter() - t0
    order = sorted(finals, key=lambda uf: uf[1]["debut"] or 0)
    return {
        "jobs": len(jobs),
        "done": sum(f["etat"] == "done" for _, f in finals),
        "lost": len(jobs) - len(finals),
        "wall_s": round(wall, 2),
        "start_order": [user for user, _ in order],
        "timeline": [
            {
                "user": u,
                "created": round(f["cree"] - t_sub, 2),
                "started": round(f["debut"] - t_sub, 2),
            }
            for u, f in order
        ],
        "fairness_violations": fairness_violations(order),
    }


def fairness_violations(order: list[tuple[str, dict]]) -> int:
    """Starts that passed over a waiting job of a user who had started fewer jobs.

    When a user's n-th job starts, no job of a user with fewer than n-1 started jobs may be
    waiting (submitted before that start and not started yet): the queue's round robin.
    """
    started: dict[str, int] = {}
    bad = 0
    for user, job in order:
        t = job["debut"]
        for other, waiting in order:
            if other == user or not (waiting["cree"] <= t < waiting["debut"]):
                continue
            if started.get(other, 0) < started.get(user, 0):
                bad += 1
                break
        started[user] = started.get(user, 0) + 1
    return bad


def service_process(hub: LocalHub) -> psutil.Process:
    for proc in psutil.Process(hub.proc.pid).children(recursive=True):
        if " -m hub.reproduce " in f" {' '.join(proc.cmdline())} ":
            return proc
    raise LookupError("service")


def bench_memory(hub: LocalHub, token: str, work: Path) -> dict:
    path = work / "gros.csv"
    line = b"2015-09-01;C001;E;JULES VERNE E;242;199\n"
    with open(path, "wb") as f:
        f.write(b"date;site_id;site_type;site_nom;prevision;reel\n")
        f.write(line * ((49 << 20) // len(line)))
    proc = service_process(hub)
    before = proc.memory_info().rss
    peak = [before]
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            peak.append(proc.memory_info().rss)
            time.sleep(0.01)

    thread = threading.Thread(target=sample)
    thread.start()
    t0 = time.perf_counter()
    upload(hub, token, path)
    wall = time.perf_counter() - t0
    stop.set()
    thread.join()
    return {
        "bytes": path.stat().st_size,
        "upload_s": round(wall, 2),
        "rss_before_mb": round(before / 2**20, 1),
        "rss_peak_mb": round(max(peak) / 2**20, 1),
        "goal_mb": 200,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=150_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument(
        "--only", choices=("all", "memory", "validation", "report", "jobs"), default="all"
    )
    args = parser.parse_args(argv)
    report: dict = {"cores": os.cpu_count(), "load_before": os.getloadavg()}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        hub = LocalHub(work / "hub", env={"BIBLIO_DEMO": "1"}).start()
        try:
            users = [f"agent{i}" for i in range(5)]
            tokens = hub.create_users(users, ("collectivites",))
            big, rows = canteen_file(work, args.rows)
            time.sleep(3)  # the service's validation process warms up
            wanted = {"memory", "validation", "report", "jobs"}
            wanted = wanted if args.only == "all" else {args.only}
            if "memory" in wanted:
                report["memory_50mb_upload"] = bench_memory(hub, tokens["agent0"], work)
            if "validation" in wanted:
                report["upload_validation_150k"] = [
                    bench_upload_validation(hub, tokens["agent0"], big, rows) for _ in range(3)
                ]
            if "report" in wanted:
                report["upload_to_report"] = bench_upload_to_report(
                    hub, tokens["agent1"], big, args.runs, work
                )
            if "jobs" in wanted:
                sample = REPO / "datasets" / ENTRY / "sample.csv"
                report["ten_jobs_five_users"] = bench_ten_jobs(hub, tokens, sample)
        finally:
            hub.stop()
    report["load_after"] = os.getloadavg()
    text = json.dumps(report, indent=2, ensure_ascii=False)
    print(text)
    if args.json:
        args.json.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
