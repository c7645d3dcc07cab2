"""Docker layer: a real Docker engine, the real demonstrator image, a real hub in docker mode.

Every test here is marked ``docker``. The session:

1. uses the engine of ``DOCKER_HOST`` if one answers, else starts a private one with
   ``scripts/dockerd.sh start`` (stopped again at the end); when no engine can run (no
   ``dockerd``, not root, no cgroups...), every test is **skipped** with the reason;
2. builds the image with ``images/build.sh singleuser`` (a few seconds when the layers are
   cached; ``DOCKER_TEST_BUILD=0`` uses the existing image as it is);
3. starts one hub (``tests.support.localhub.LocalHub``) with ``BIBLIO_SPAWNER=docker`` on free
   ports, host networking, a 512 MB memory limit, and a volume prefix unique to the run; every
   container and volume of that prefix is removed at the end.
"""

import os
import secrets
import subprocess
from pathlib import Path

import pytest

from hub.config.settings import Settings
from models.entries import REPO_ROOT
from tests.support.dockerengine import remove_prefixed
from tests.support.localhub import LocalHub

HERE = Path(__file__).resolve().parent
DOCKERD = REPO_ROOT / "scripts" / "dockerd.sh"
BUILD = REPO_ROOT / "images" / "build.sh"
IMAGE = Settings.from_env().image
PRIVATE_HOST = "unix:///run/biblio-ia-docker/docker.sock"
MEM_LIMIT = "512M"


def pytest_collection_modifyitems(config, items):
    for item in items:
        if HERE in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.docker)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    hub = getattr(item, "funcargs", {}).get("docker_hub")
    if report.failed and isinstance(hub, LocalHub):
        tail = "\n".join(hub.log_text().splitlines()[-200:])
        report.sections.append(("hub log (last 200 lines)", tail))


def _answers(host):
    env = {**os.environ, "DOCKER_HOST": host}
    try:
        done = subprocess.run(
            ["docker", "version", "--format", "{{.Server.Version}}"],
            env=env,
            capture_output=True,
            timeout=10,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


@pytest.fixture(scope="session")
def docker_host():
    """``DOCKER_HOST`` of a running engine (started here if needed), or skip with the reason."""
    candidates = [h for h in (os.environ.get("DOCKER_HOST"), PRIVATE_HOST) if h]
    for host in candidates:
        if _answers(host):
            yield host
            return
    try:
        started = subprocess.run(
            ["bash", str(DOCKERD), "start"], capture_output=True, text=True, timeout=90
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        pytest.skip(f"docker mode not tested: dockerd could not start ({error})")
    if started.returncode != 0 or not _answers(PRIVATE_HOST):
        reason = (started.stderr or started.stdout).strip().splitlines()[-1:] or ["?"]
        pytest.skip(f"docker mode not tested: dockerd could not start ({reason[0]})")
    yield PRIVATE_HOST
    subprocess.run(["bash", str(DOCKERD), "stop"], capture_output=True, timeout=60)


@pytest.fixture(scope="session")
def docker_client(docker_host):
    import docker

    client = docker.DockerClient(base_url=docker_host, timeout=120)
    yield client
    client.close()


@pytest.fixture(scope="session")
def image(docker_host, docker_client):
    """The demonstrator image, (re)built unless DOCKER_TEST_BUILD=0."""
    if os.environ.get("DOCKER_TEST_BUILD", "1") != "0":
        env = {**os.environ, "DOCKER_HOST": docker_host, "BIBLIO_IMAGE": IMAGE}
        done = subprocess.run(
            ["bash", str(BUILD), "singleuser"],
            env=env,
            capture_output=True,
            text=True,
            timeout=1200,
        )
        if done.returncode != 0:
            pytest.fail(f"images/build.sh failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return docker_client.images.get(IMAGE)


@pytest.fixture(scope="session")
def prefix():
    return f"biblio-test-{secrets.token_hex(3)}"


def docker_env(docker_host: str, prefix: str) -> dict[str, str]:
    """Environment of a test hub in docker mode (volumes and containers named ``prefix…``)."""
    return {
        "DOCKER_HOST": docker_host,
        "BIBLIO_SPAWNER": "docker",
        "BIBLIO_DOCKER_IMAGE": IMAGE,
        "BIBLIO_DOCKER_MEM_LIMIT": MEM_LIMIT,
        "BIBLIO_DOCKER_CPU_LIMIT": "1",
        "BIBLIO_DOCKER_VOLUME_PREFIX": prefix,
        "BIBLIO_NAMED_SERVER_LIMIT": "5",
    }


@pytest.fixture(scope="session")
def docker_hub(tmp_path_factory, docker_host, docker_client, image, prefix):
    hub = LocalHub(tmp_path_factory.mktemp("docker-hub"), env=docker_env(docker_host, prefix))
    try:
        hub.start()
    except RuntimeError as error:
        hub.stop()
        pytest.fail(f"the hub (docker mode) did not start: {error}")
    yield hub
    hub.stop()
    remove_prefixed(docker_client, prefix)
