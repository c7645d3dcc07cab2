"""The Docker engine the benchmarks use (test and benchmark support, not installed).

``engine_host()`` finds an engine that answers and has the demonstrator image
(``DOCKER_HOST``, else the private engine of ``scripts/dockerd.sh``); ``remove_prefixed``
(a client) and ``remove_prefixed_at`` (an engine's address) remove the containers and volumes
of one run (their names start with its prefix): the docker test layer's and the benchmarks'.
"""

from __future__ import annotations

import os
import shutil
import subprocess

from hub.config.settings import Settings

PRIVATE_DOCKER_HOST = "unix:///run/biblio-ia-docker/docker.sock"


def engine_host() -> tuple[str | None, str]:
    """(DOCKER_HOST of an engine that answers, '') or (None, why docker mode is skipped)."""
    if not shutil.which("docker"):
        return None, "no docker client on PATH"
    image = Settings.from_env().image
    for host in [h for h in (os.environ.get("DOCKER_HOST"), PRIVATE_DOCKER_HOST) if h]:
        env = {**os.environ, "DOCKER_HOST": host}
        try:
            ok = subprocess.run(
                ["docker", "image", "inspect", image], env=env, capture_output=True, timeout=15
            )
        except (OSError, subprocess.TimeoutExpired):
            continue
        if ok.returncode == 0:
            return host, ""
        if b"No such image" in ok.stderr:
            return None, f"engine at {host} answers but image {image} is missing (make images)"
    return None, "no Docker engine answers (make images starts one)"


def remove_prefixed(client, prefix: str) -> None:
    """Remove every container and volume whose name starts with ``prefix`` (``client``: a
    ``docker.DockerClient``)."""
    for container in client.containers.list(all=True):
        if container.name.startswith(prefix):
            container.remove(force=True)
    for volume in client.volumes.list():
        if volume.name.startswith(prefix):
            volume.remove(force=True)


def remove_prefixed_at(host: str, prefix: str) -> None:
    """``remove_prefixed`` on the engine at ``host`` (a ``DOCKER_HOST`` URL)."""
    import docker

    client = docker.DockerClient(base_url=host, timeout=120)
    try:
        remove_prefixed(client, prefix)
    finally:
        client.close()
