"""Memory of an idle demonstrator: its server and its kernel (a script, JSON).

A throwaway hub (``tests.support.localhub.LocalHub``: the real configuration, the real
proxy, 127.0.0.1 only) in ``--mode local`` (servers forked from the fork server) or
``--mode docker`` (one container each, where an engine answers and the image exists) with
``BIBLIO_KERNEL_CULL_TIMEOUT=--kernel-cull`` gets ``--servers`` experts; each launches the
entry's demonstrator, which is measured at three moments:

1. ``fresh``: the server just started, no kernel;
2. ``with_kernel``: a python3 kernel ran the entry's imports (``--code``: the notebook's
   libraries) and sits idle;
3. ``kernel_culled``: the server stopped the idle kernel by itself (jupyter-server's kernel
   culling, ``hub/jupyter/jupyter_server_config.py``); the server stays up.

Each figure is the server's process tree (server + kernel): RSS, PSS (shared pages split
between the processes that share them: the fair share of a server forked from the fork
server) and USS (pages of its own), medians over the servers, in MB; in docker mode also
``cgroup_mb``, the container's memory as the engine counts it against its limit (usage
without the reclaimable file cache, as ``docker stats`` shows). ``goal_met`` is the PSS
median after the cull ≤ ``--goal-mb`` (150). ``forkserver`` gives the fork server's own
memory, shared by every forked server (local mode). Bounded by ``--max-seconds`` (240)::

    .venv/bin/python benchmarks/idle_memory.py --servers 3 --kernel-cull 10
    DOCKER_HOST=unix:///run/biblio-ia-docker/docker.sock \
        .venv/bin/python benchmarks/idle_memory.py --mode docker --servers 3
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import psutil
import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hub.config.settings import Settings  # noqa: E402
from hub.spawners.docker_spawner import LABEL_ENTRY, LABEL_USER  # noqa: E402
from hub.spawners.forkclient import server_title  # noqa: E402
from models.entries import entry_ids  # noqa: E402
from tests.support.dockerengine import engine_host, remove_prefixed_at  # noqa: E402
from tests.support.kernel import Kernel  # noqa: E402
from tests.support.localhub import LocalHub  # noqa: E402

MAX_SERVERS = 20


def default_code(entry: str) -> str:
    """What a demonstrator's notebook loads: its entry package and the plotting library."""
    return f"import models.{entry}, matplotlib.pyplot, sklearn.ensemble; print('ok')"


def server_process(user: str, entry: str) -> psutil.Process:
    title = server_title(user, entry)
    for proc in psutil.process_iter():
        try:
            if " ".join(proc.cmdline()).strip() == title and proc.status() != psutil.STATUS_ZOMBIE:
                return proc
        except psutil.Error:
            continue
    raise LookupError(f"no process titled {title!r}")


class Containers:
    """The demonstrators' containers of one docker-mode run, found by their labels."""

    def __init__(self, host: str) -> None:
        import docker

        self.client = docker.DockerClient(base_url=host, timeout=60)

    def get(self, user: str, entry: str):
        (found,) = self.client.containers.list(
            filters={"label": [f"{LABEL_USER}={user}", f"{LABEL_ENTRY}={entry}"]}
        )
        return found

    def process(self, user: str, entry: str) -> psutil.Process:
        """The container's first process (the server), seen from the host."""
        return psutil.Process(self.get(user, entry).attrs["State"]["Pid"])

    def cgroup_mb(self, user: str, entry: str) -> float:
        """Memory charged to the container, without its reclaimable file cache."""
        stats = self.get(user, entry).stats(stream=False)["memory_stats"]
        detail = stats.get("stats", {})
        cache = detail.get("inactive_file", detail.get("total_inactive_file", 0))
        return (stats.get("usage", 0) - cache) / 2**20


def tree_memory(root: psutil.Process) -> dict[str, float]:
    """RSS, PSS and USS in MB of ``root`` and its descendants, and how many processes."""
    total = {"rss": 0.0, "pss": 0.0, "uss": 0.0, "processes": 0}
    for proc in [root, *root.children(recursive=True)]:
        try:
            info = proc.memory_full_info()
        except psutil.Error:
            continue
        total["rss"] += info.rss / 2**20
        total["pss"] += getattr(info, "pss", 0) / 2**20
        total["uss"] += info.uss / 2**20
        total["processes"] += 1
    return total


def medians(samples: list[dict[str, float]]) -> dict:
    if not samples:
        return {"n": 0}
    out = {f"{k}_mb": round(statistics.median(s[k] for s in samples), 1) for k in samples[0]}
    out["processes"] = int(out.pop("processes_mb"))
    out["n"] = len(samples)
    return out


def kernels(hub: LocalHub, user: str, entry: str, token: str) -> list:
    r = requests.get(
        f"{hub.url}/user/{user}/{entry}/api/kernels",
        headers={"Authorization": f"token {token}"},
        timeout=30,
    )
    r.raise_for_status()
    return r.json()


def snapshot(procs: dict, containers: Containers | None, entry: str) -> dict:
    """Medians over the servers of their trees' memory (and cgroup memory in docker mode)."""
    samples = [tree_memory(p) for p in procs.values()]
    if containers is not None:
        for sample, user in zip(samples, procs, strict=True):
            sample["cgroup"] = containers.cgroup_mb(user, entry)
    return medians(samples)


def measure(args: argparse.Namespace, entry: str, mode_env: dict) -> dict:
    env = {
        "BIBLIO_REPO_ROOT": str(Settings.from_env().repo_root),
        "BIBLIO_KERNEL_CULL_TIMEOUT": str(args.kernel_cull),
        **mode_env,
    }
    docker_host = mode_env.get("DOCKER_HOST")
    containers = Containers(docker_host) if docker_host else None
    hub = LocalHub(Path(tempfile.mkdtemp(prefix="biblio-idle-memory-")), env=env).start()
    deadline = time.monotonic() + args.max_seconds
    result: dict = {
        "mode": args.mode,
        "entry": entry,
        "servers": args.servers,
        "kernel_cull_s": args.kernel_cull,
    }
    try:
        users = [f"memoire{i:02d}" for i in range(args.servers)]
        tokens = hub.create_users(users, ("experts",))
        for user in users:
            hub.start_server(user, entry, token=tokens[user])
        time.sleep(1)  # settle: the server's first requests done
        if containers is not None:
            procs = {user: containers.process(user, entry) for user in users}
        else:
            procs = {user: server_process(user, entry) for user in users}
        result["fresh"] = snapshot(procs, containers, entry)
        code = args.code or default_code(entry)
        for user in users:
            out = Kernel(hub, user, entry, tokens[user]).run(code, timeout=120)
            if "ok" not in out:
                raise RuntimeError(f"the kernel of {user} printed {out!r}")
        time.sleep(1)
        result["with_kernel"] = snapshot(procs, containers, entry)
        t0 = time.monotonic()
        waiting = set(users)
        while waiting and time.monotonic() < deadline:
            waiting = {u for u in waiting if kernels(hub, u, entry, tokens[u])}
            time.sleep(0.5)
        result["kernel_culled_after_s"] = None if waiting else round(time.monotonic() - t0, 1)
        time.sleep(1)  # the kernel processes have exited
        result["kernel_culled"] = snapshot(procs, containers, entry)
        result["servers_still_running"] = sum(
            bool((hub.server_state(u, entry) or {}).get("ready")) for u in users
        )
        forkserver = [
            p
            for p in psutil.Process(hub.proc.pid).children()
            if "biblio-ia forkserver" in " ".join(p.cmdline())
        ]
        if containers is None:
            result["forkserver"] = medians([tree_memory_one(p) for p in forkserver])
    finally:
        hub.stop()
        if docker_host:
            remove_prefixed_at(docker_host, mode_env["BIBLIO_DOCKER_VOLUME_PREFIX"])
    culled = result.get("kernel_culled", {})
    result["goal_mb"] = args.goal_mb
    result["goal_met"] = bool(
        culled.get("n") == args.servers
        and result.get("kernel_culled_after_s") is not None
        and culled["pss_mb"] <= args.goal_mb
    )
    return result


def tree_memory_one(proc: psutil.Process) -> dict[str, float]:
    """Like ``tree_memory`` for one process alone (the fork server, without its servers)."""
    info = proc.memory_full_info()
    return {
        "rss": info.rss / 2**20,
        "pss": getattr(info, "pss", 0) / 2**20,
        "uss": info.uss / 2**20,
        "processes": 1,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=("local", "docker"), default="local")
    parser.add_argument("--servers", type=int, default=3)
    parser.add_argument("--entry", default=None, help="entry id (default: the first one)")
    parser.add_argument("--kernel-cull", type=int, default=10, help="seconds (≥ 2)")
    parser.add_argument("--code", default="", help="code the kernel runs (default: imports)")
    parser.add_argument("--goal-mb", type=float, default=150)
    parser.add_argument("--max-seconds", type=float, default=240)
    args = parser.parse_args(argv)
    args.servers = max(1, min(args.servers, MAX_SERVERS))
    args.kernel_cull = max(2, args.kernel_cull)
    args.max_seconds = min(args.max_seconds, 600)
    entry = args.entry or (entry_ids(Settings.from_env().repo_root) or [None])[0]
    if entry is None:
        parser.error("aucune entrée à mesurer")
    mode_env: dict[str, str] = {"BIBLIO_SPAWNER": args.mode}
    if args.mode == "docker":
        host, why = engine_host()
        if host is None:
            print(json.dumps({"mode": "docker", "skipped": why}, ensure_ascii=False))
            return 2
        mode_env.update(
            {"DOCKER_HOST": host, "BIBLIO_DOCKER_VOLUME_PREFIX": f"biblio-memory-{os.getpid()}"}
        )
    result = measure(args, entry, mode_env)
    print(json.dumps(result, indent=2, ensure_ascii=False))
    return 0 if result["goal_met"] else 1


if __name__ == "__main__":
    sys.exit(main())
