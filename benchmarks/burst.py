"""A room of N experts clicking "Lancer le démonstrateur" at once (a script, JSON on stdout).

For each size N (``--sizes``, default 10,20,50,100) and each mode (``--modes``, default local and
docker), a fresh throwaway hub (``tests.support.localhub.LocalHub``: the real configuration, the
real node proxy, 127.0.0.1 only) gets N users of the ``experts`` group; N threads released
together send ``POST /hub/api/users/<u>/servers/<entry>`` with each user's own token and follow
the server's progress stream until it is ready. Printed per burst:

- ``all_ready_s`` (release -> last server ready), ``launch_s`` p50/p95/max per launch, ``errors``
  (refused, failed, not ready in time, or not answering through the proxy afterwards);
- ``forks`` and ``fallbacks`` (plain starts) counted in the hub's log (local mode);
- ``api_latency_s``: one client calling ``GET /hub/api/users/<u>`` every 50 ms during the burst;
- ``hub_cpu_s``: CPU seconds the hub process used during the burst, ``servers_cpu_s`` those
  of the servers (from their start): what the burst costs whatever the machine's load;
- ``memory_mb``: RSS, PSS (shared pages split fairly) and USS of each server process;
- ``hub_stop_s``: SIGTERM to the hub process gone, with the N servers running, and
  ``left_running``: processes the hub started that are still alive after it exited; in
  docker mode ``containers_kept``: containers still running after the hub exited (on
  purpose with ``BIBLIO_KEEP_SERVERS=1``, the docker default; ``--docker-stop`` measures the
  hub stopping them instead) and ``servers_cpu_s``: CPU the containers used (cgroups);
- ``loadavg`` before and after (the machine may be shared).

Docker mode runs where an engine answers (``DOCKER_HOST``, else the private engine of
``scripts/dockerd.sh``) and the image exists; it is skipped with the reason otherwise. Bounded:
``--burst-timeout`` per burst (default 120 s), N ≤ 200. Example::

    .venv/bin/python benchmarks/burst.py --sizes 10,20,50,100 --out /tmp/burst.json
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil
import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hub.config.settings import Settings  # noqa: E402
from hub.spawners.forkclient import server_title  # noqa: E402
from hub.spawners.local import FALLBACK_LOG, FORKED_LOG  # noqa: E402
from models.entries import entry_ids  # noqa: E402
from tests.support.dockerengine import engine_host, remove_prefixed_at  # noqa: E402
from tests.support.localhub import LocalHub  # noqa: E402

MAX_SIZE = 200
PROBE_INTERVAL = 0.05
TITLE_PREFIX = server_title("")


def loadavg() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def summary(samples: list[float]) -> dict:
    """n, p50, p95, max (seconds, 3 decimals)."""
    ordered = sorted(samples)
    if not ordered:
        return {"n": 0}
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {
        "n": len(ordered),
        "p50": round(statistics.median(ordered), 3),
        "p95": round(p95, 3),
        "max": round(ordered[-1], 3),
    }


def make_users(hub: LocalHub, n: int) -> dict[str, str]:
    """N experts created in one call; a token of each (their own permissions)."""
    return hub.create_users([f"expert{i:03d}" for i in range(n)], ("experts",))


def wait_ready(hub: LocalHub, user: str, entry: str, token: str, deadline: float) -> None:
    """Follow the server's progress stream (server-sent events) until ready; raise if failed."""
    url = f"{hub.url}/hub/api/users/{user}/servers/{entry}/progress"
    headers = {"Authorization": f"token {token}"}
    with requests.get(url, headers=headers, stream=True, timeout=deadline - time.monotonic()) as r:
        r.raise_for_status()
        for line in r.iter_lines(decode_unicode=True):
            if not line or not line.startswith("data:"):
                continue
            event = json.loads(line[5:])
            if event.get("ready"):
                return
            if event.get("failed"):
                raise RuntimeError(event.get("message", "failed"))
            if time.monotonic() > deadline:
                break
    raise TimeoutError("not ready in time")


def launch(hub, user, entry, token, release, deadline, out) -> None:
    release.wait()
    t0 = time.perf_counter()
    try:
        r = requests.post(
            f"{hub.url}/hub/api/users/{user}/servers/{entry}",
            headers={"Authorization": f"token {token}"},
            json={},
            timeout=max(1.0, deadline - time.monotonic()),
        )
        if r.status_code == 202:
            wait_ready(hub, user, entry, token, deadline)
        elif r.status_code != 201:
            raise RuntimeError(f"{r.status_code} {r.text[:200]}")
        out[user] = time.perf_counter() - t0
    except Exception as error:  # noqa: BLE001 -- every failure is counted and reported
        out[user] = error


def probe(hub, user, stop, release, latencies) -> None:
    """Time a hub API call every PROBE_INTERVAL seconds while the burst runs."""
    release.wait()
    session = requests.Session()
    while not stop.is_set():
        t0 = time.perf_counter()
        try:
            session.get(f"{hub.url}/hub/api/users/{user}", headers=hub_headers(hub), timeout=30)
            latencies.append(time.perf_counter() - t0)
        except requests.RequestException:
            latencies.append(30.0)
        stop.wait(PROBE_INTERVAL)


def hub_headers(hub: LocalHub) -> dict:
    return {"Authorization": f"token {hub.token}"}


def answers_through_proxy(hub, user, entry, token) -> bool:
    try:
        r = requests.get(
            f"{hub.url}/user/{user}/{entry}/api/status",
            headers={"Authorization": f"token {token}"},
            timeout=30,
            allow_redirects=False,
        )
    except requests.RequestException:
        return False
    return r.status_code == 200


def server_processes(hub: LocalHub) -> list[psutil.Process]:
    """Single-user server processes under the hub (forked or plain), by their title."""
    found = []
    for proc in psutil.Process(hub.proc.pid).children(recursive=True):
        try:
            if " ".join(proc.cmdline()).startswith(TITLE_PREFIX):
                found.append(proc)
        except psutil.Error:
            continue
    return found


def cpu_seconds(proc: psutil.Process) -> float:
    """User + system CPU seconds of ``proc`` so far (0 if it is gone)."""
    try:
        times = proc.cpu_times()
    except psutil.Error:
        return 0.0
    return times.user + times.system


def memory_mb(procs: list[psutil.Process]) -> dict:
    rss, pss, uss = [], [], []
    for proc in procs:
        try:
            info = proc.memory_full_info()
        except psutil.Error:
            continue
        rss.append(info.rss / 2**20)
        pss.append(getattr(info, "pss", 0) / 2**20)
        uss.append(info.uss / 2**20)
    if not rss:
        return {"n": 0}
    return {
        "n": len(rss),
        "rss_median": round(statistics.median(rss), 1),
        "pss_median": round(statistics.median(pss), 1),
        "uss_median": round(statistics.median(uss), 1),
        "pss_total": round(sum(pss), 1),
    }


def running_containers(env: dict) -> list:
    """The running containers of this run (their names start with its prefix)."""
    import docker

    client = docker.DockerClient(base_url=env["DOCKER_HOST"], timeout=60)
    try:
        prefix = env["BIBLIO_DOCKER_VOLUME_PREFIX"]
        return [c for c in client.containers.list() if c.name.startswith(prefix)]
    finally:
        client.close()


def containers_cpu_seconds(env: dict) -> float:
    """CPU seconds used by the running containers of this run since they started."""
    total = 0
    for container in running_containers(env):
        total += container.stats(stream=False)["cpu_stats"]["cpu_usage"]["total_usage"]
    return round(total / 1e9, 2)


def stop_hub(hub: LocalHub, timeout: float = 60) -> dict:
    """SIGTERM to the hub; seconds until it exited; its processes still alive afterwards."""
    root = psutil.Process(hub.proc.pid)
    started = root.children(recursive=True)
    t0 = time.perf_counter()
    hub.proc.send_signal(signal.SIGTERM)
    try:
        hub.proc.wait(timeout)
        stop_s = round(time.perf_counter() - t0, 3)
    except subprocess.TimeoutExpired:
        stop_s = None
    time.sleep(0.5)  # what the hub started has had time to go
    left = []
    for proc in started:
        try:
            if proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE:
                left.append(" ".join(proc.cmdline())[:120])
                proc.kill()
        except psutil.Error:
            continue
    return {"hub_stop_s": stop_s, "left_running": len(left), "left_examples": left[:3]}


def run_burst(
    mode: str, n: int, entry: str, env: dict, burst_timeout: float, logs: Path | None = None
) -> dict:
    result: dict = {"mode": mode, "n": n, "loadavg_before": loadavg()}
    workdir = Path(tempfile.mkdtemp(prefix=f"biblio-burst-{mode}-{n}-"))
    hub = LocalHub(workdir, env={"BIBLIO_REPO_ROOT": str(Settings.from_env().repo_root), **env})
    try:
        hub.start()
        tokens = make_users(hub, n)
        probe_user = next(iter(tokens))
        release, stop = threading.Event(), threading.Event()
        outcomes: dict = {}
        latencies: list[float] = []
        deadline = time.monotonic() + burst_timeout + 5
        threads = [
            threading.Thread(
                target=launch, args=(hub, u, entry, t, release, deadline, outcomes), daemon=True
            )
            for u, t in tokens.items()
        ]
        prober = threading.Thread(
            target=probe, args=(hub, probe_user, stop, release, latencies), daemon=True
        )
        for thread in [*threads, prober]:
            thread.start()
        time.sleep(0.2)
        hub_cpu = cpu_seconds(psutil.Process(hub.proc.pid))
        t0 = time.perf_counter()
        release.set()
        for thread in threads:
            thread.join(max(0.1, deadline - time.monotonic()))
        all_done = time.perf_counter() - t0
        hub_cpu = cpu_seconds(psutil.Process(hub.proc.pid)) - hub_cpu
        stop.set()
        prober.join(35)
        times = [v for v in outcomes.values() if isinstance(v, float)]
        failures = {u: repr(v)[:200] for u, v in outcomes.items() if not isinstance(v, float)}
        failures.update({u: "no answer" for u in tokens if u not in outcomes})
        unreachable = [
            u
            for u in tokens
            if u not in failures and not answers_through_proxy(hub, u, entry, tokens[u])
        ]
        log = hub.log_text()
        servers = server_processes(hub) if mode == "local" else []
        if mode == "docker":
            servers_cpu = containers_cpu_seconds(env)
        else:
            servers_cpu = round(sum(cpu_seconds(p) for p in servers), 2) if servers else None
        result.update(
            all_ready_s=round(all_done, 3) if not failures else None,
            launch_s=summary(times),
            errors=len(failures) + len(unreachable),
            error_examples=[
                *list(failures.items())[:3],
                *[(u, "unreachable") for u in unreachable[:3]],
            ],
            forks=log.count(FORKED_LOG) if mode == "local" else None,
            fallbacks=log.count(FALLBACK_LOG) if mode == "local" else None,
            api_latency_s=summary(latencies),
            hub_cpu_s=round(hub_cpu, 2),
            servers_cpu_s=servers_cpu,
            memory_mb=memory_mb(servers) if servers else None,
            loadavg_burst_end=loadavg(),
        )
        result.update(stop_hub(hub))
        if mode == "docker":
            result["containers_kept"] = len(running_containers(env))
    except Exception as error:  # noqa: BLE001 -- reported in the JSON, next burst still runs
        result["failed"] = repr(error)[:500]
        result["hub_log_tail"] = hub.log_text().splitlines()[-20:]
    finally:
        hub.stop()
        if mode == "docker":  # kept containers go before the next burst
            remove_prefixed_at(env["DOCKER_HOST"], env["BIBLIO_DOCKER_VOLUME_PREFIX"])
        result["loadavg_after"] = loadavg()
        if logs is not None:
            logs.mkdir(parents=True, exist_ok=True)
            shutil.copy(hub.log_path, logs / f"hub-{mode}-{n}.log")
        shutil.rmtree(workdir, ignore_errors=True)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10,20,50,100")
    parser.add_argument("--modes", default="local,docker")
    parser.add_argument("--entry", help="entry id (default: the first entry)")
    parser.add_argument("--burst-timeout", type=float, default=120)
    parser.add_argument(
        "--docker-stop",
        action="store_true",
        help="docker mode: the hub stops its containers when it stops (BIBLIO_KEEP_SERVERS=0)",
    )
    parser.add_argument("--out", type=Path, help="also write the JSON here")
    parser.add_argument("--logs", type=Path, help="keep each hub's log in this folder")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    if any(not 0 < n <= MAX_SIZE for n in sizes):
        parser.error(f"sizes between 1 and {MAX_SIZE}")
    entries = entry_ids(Settings.from_env().repo_root)
    if not entries:
        print("aucune entrée à lancer", file=sys.stderr)
        return 2
    entry = args.entry or entries[0]
    report: dict = {"entry": entry, "cpus": os.cpu_count(), "loadavg_start": loadavg()}
    for mode in [m.strip() for m in args.modes.split(",") if m.strip()]:
        if mode == "local":
            env = {"BIBLIO_SPAWNER": "local"}
        elif mode == "docker":
            host, why = engine_host()
            if host is None:
                report["docker"] = {"skipped": why}
                continue
            prefix = f"biblio-burst-{os.getpid()}"
            env = {
                "BIBLIO_SPAWNER": "docker",
                "DOCKER_HOST": host,
                "BIBLIO_DOCKER_VOLUME_PREFIX": prefix,
                "BIBLIO_KEEP_SERVERS": "0" if args.docker_stop else "1",
            }
        else:
            parser.error(f"unknown mode {mode}")
        report[mode] = [
            run_burst(mode, n, entry, env, args.burst_timeout, args.logs) for n in sizes
        ]
    report["loadavg_end"] = loadavg()
    text = json.dumps(report, indent=2, ensure_ascii=False)
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
