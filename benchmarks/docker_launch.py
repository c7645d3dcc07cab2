"""Docker mode launch latency and memory per demonstrator (a script, not a test).

    DOCKER_HOST=unix:///run/biblio-ia-docker/docker.sock \\
        .venv/bin/python benchmarks/docker_launch.py --launches 10 --concurrent 3

Starts a real hub in docker mode (``tests.support.localhub.LocalHub``, image already built with
``images/build.sh``), then:

- ``--launches`` times: start a named server through the REST API and wait until it is
  ready (request -> ready), then stop it (request -> container gone); p50/p95 of both;
- ``--concurrent`` servers of different users running at once: memory of each container
  (cgroup usage minus page cache) idle, and with one python3 kernel started.

Prints JSON. Containers and volumes it made are removed at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path

import docker
import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hub.config.settings import Settings  # noqa: E402
from hub.spawners.docker_spawner import LABEL_USER  # noqa: E402
from models.entries import entry_ids  # noqa: E402
from tests.support.dockerengine import remove_prefixed  # noqa: E402
from tests.support.localhub import LocalHub  # noqa: E402


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def container_memory_mb(container) -> float:
    stats = container.stats(stream=False)["memory_stats"]
    cache = stats.get("stats", {}).get("cache", 0) or stats.get("stats", {}).get("inactive_file", 0)
    return round((stats["usage"] - cache) / 2**20, 1)


def user_container(client, user: str):
    (container,) = client.containers.list(filters={"label": f"{LABEL_USER}={user}"})
    return container


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--launches", type=int, default=10)
    parser.add_argument("--concurrent", type=int, default=3)
    parser.add_argument("--image", default=Settings.from_env().image)
    args = parser.parse_args()
    docker_host = os.environ.get("DOCKER_HOST", "unix:///run/biblio-ia-docker/docker.sock")
    client = docker.DockerClient(base_url=docker_host)
    entry = entry_ids()[0]
    prefix = f"biblio-bench-{secrets.token_hex(3)}"
    hub = LocalHub(
        Path(tempfile.mkdtemp(prefix="biblio-bench-")),
        env={
            "DOCKER_HOST": docker_host,
            "BIBLIO_SPAWNER": "docker",
            "BIBLIO_DOCKER_IMAGE": args.image,
            "BIBLIO_DOCKER_VOLUME_PREFIX": prefix,
        },
    )
    hub.start()
    result: dict = {"entry": entry, "image": args.image}
    try:
        hub.create_user("bench", ("experts",))
        starts, stops = [], []
        for _ in range(args.launches):
            starts.append(hub.start_server("bench", entry))
            t0 = time.perf_counter()
            hub.stop_server("bench", entry)
            stops.append(time.perf_counter() - t0)
        result["launch_api_s"] = {
            "n": len(starts),
            "p50": round(statistics.median(starts), 3),
            "p95": round(percentile(starts, 0.95), 3),
            "min": round(min(starts), 3),
            "max": round(max(starts), 3),
        }
        result["stop_s"] = {"p50": round(statistics.median(stops), 3)}

        users = [f"mem{i}" for i in range(args.concurrent)]
        tokens = {u: hub.create_user(u, ("experts",)) for u in users}
        t0 = time.perf_counter()
        for user in users:
            hub.start_server(user, entry)
        result["concurrent_all_ready_s"] = round(time.perf_counter() - t0, 2)
        time.sleep(2)
        idle = [container_memory_mb(user_container(client, u)) for u in users]
        for user in users:
            r = requests.post(
                f"{hub.url}/user/{user}/{entry}/api/kernels",
                headers={"Authorization": f"token {tokens[user]}"},
                json={"name": "python3"},
                timeout=60,
            )
            r.raise_for_status()
        time.sleep(3)
        with_kernel = [container_memory_mb(user_container(client, u)) for u in users]
        result["memory_mb_per_demonstrator"] = {
            "idle_server": statistics.median(idle),
            "server_plus_idle_kernel": statistics.median(with_kernel),
            "samples_idle": idle,
            "samples_with_kernel": with_kernel,
        }
        for user in users:
            hub.stop_server(user, entry)
    finally:
        hub.stop()
        remove_prefixed(client, prefix)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
