"""Docker mode under faults: nothing lost when the hub restarts or a container dies.

``kept_docker_hub`` leaves its containers running when it stops (``BIBLIO_KEEP_SERVERS=1``,
fixed internal ports so that the containers find the next hub's API). Its containers keep
running across a restart of the hub — the same containers, reachable through the new proxy,
with their kernels and their files — and a container killed afterwards is noticed, relaunched
on the same volume. These tests are marked ``docker`` and ``reliability``.
"""

import pytest

from hub.shared import free_port
from hub.spawners.docker_spawner import LABEL_ENTRY, LABEL_USER
from models.entries import entry_ids
from tests.docker.conftest import docker_env
from tests.reliability.helpers import answers, get_text, put_text, stop_all_servers, wait_until
from tests.support.dockerengine import remove_prefixed
from tests.support.kernel import Kernel
from tests.support.localhub import LocalHub

pytestmark = pytest.mark.reliability

ENTRY = (entry_ids() or ["canteen_attendance"])[0]
USERS = ("reprise0", "reprise1")


@pytest.fixture(scope="module")
def kept_docker_hub(tmp_path_factory, docker_host, docker_client, image, prefix):
    own = prefix + "-kept"
    env = {
        **docker_env(docker_host, own),
        "BIBLIO_KEEP_SERVERS": "1",
        "BIBLIO_HUB_PORT": str(free_port()),
        "BIBLIO_PROXY_API_PORT": str(free_port()),
    }
    hub = LocalHub(tmp_path_factory.mktemp("kept-docker-hub"), env=env)
    try:
        hub.start()
    except RuntimeError as error:
        hub.stop()
        pytest.fail(f"the hub (docker mode, servers kept) did not start: {error}")
    yield hub
    try:
        if hub.proc is not None and hub.proc.poll() is None:
            stop_all_servers(hub)
    finally:
        hub.stop()
        remove_prefixed(docker_client, own)


def container_of(docker_client, user: str, entry: str):
    """The one container labelled with ``user`` and ``entry``."""
    found = docker_client.containers.list(
        all=True, filters={"label": [f"{LABEL_USER}={user}", f"{LABEL_ENTRY}={entry}"]}
    )
    assert len(found) == 1, [c.name for c in found]
    return found[0]


@pytest.fixture(scope="module")
def restarted(kept_docker_hub, docker_client):
    """Two running containers (one with a live kernel) and the hub restarted under them."""
    hub = kept_docker_hub
    tokens = hub.create_users(list(USERS), ("experts",))
    for user, token in tokens.items():
        hub.start_server(user, ENTRY, token=token)
        put_text(hub, user, ENTRY, token, f"{ENTRY}/notes.txt", f"notes de {user}")
    kernel = Kernel(hub, USERS[0], ENTRY, tokens[USERS[0]])
    kernel.run("x = 41")
    before = {user: container_of(docker_client, user, ENTRY).id for user in USERS}
    hub.stop()
    while_down = {}
    for user, cid in before.items():
        container = docker_client.containers.get(cid)
        while_down[user] = container.status
    hub.start()
    return {"tokens": tokens, "kernel": kernel, "before": before, "while_down": while_down}


def test_containers_keep_running_across_a_hub_restart(kept_docker_hub, docker_client, restarted):
    hub, tokens = kept_docker_hub, restarted["tokens"]
    assert set(restarted["while_down"].values()) == {"running"}, restarted["while_down"]
    for user, token in tokens.items():
        ok, seconds = wait_until(lambda u=user, t=token: answers(hub, u, ENTRY, t), 30)
        assert ok, f"{user}'s container does not answer through the new proxy ({seconds:.0f} s)"
        assert hub.server_state(user, ENTRY)["ready"]
        assert container_of(docker_client, user, ENTRY).id == restarted["before"][user]
        assert get_text(hub, user, ENTRY, token, f"{ENTRY}/notes.txt") == f"notes de {user}"
    assert restarted["kernel"].run("print(x + 1)").strip() == "42"
    log = hub.log_text()
    for user in USERS:
        assert f"{user} still running" in log  # the new hub took the container back
        assert f"User {user} server stopped" not in log


def test_a_container_killed_is_noticed_and_relaunched_on_its_volume(
    kept_docker_hub, docker_client, restarted
):
    hub = kept_docker_hub
    user, token = USERS[1], restarted["tokens"][USERS[1]]
    container = container_of(docker_client, user, ENTRY)
    container.kill(signal="SIGKILL")
    seconds = hub.wait_stopped(user, ENTRY, timeout=30)
    assert seconds <= 10, f"the hub noticed the death after {seconds:.1f} s"
    hub.start_server(user, ENTRY, token=token)
    assert answers(hub, user, ENTRY, token)
    assert container_of(docker_client, user, ENTRY).id != container.id
    assert get_text(hub, user, ENTRY, token, f"{ENTRY}/notes.txt") == f"notes de {user}"
