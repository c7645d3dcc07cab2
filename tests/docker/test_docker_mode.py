"""Docker mode end to end: launch, seed, kernel, edit, stop, relaunch, reset, isolation,
memory limit, erasure — a real hub spawning real containers of the real image."""

import json
import time
import uuid

import pytest
import requests
import websocket
from docker.errors import NotFound

from hub.spawners.docker_spawner import LABEL_ENTRY, LABEL_USER
from models.entries import entry_ids

ENTRIES = entry_ids() or [None]
USER_HOME = "/home/jovyan/work"


def _entry(entry_id):
    if entry_id is None:
        pytest.fail("aucune entrée : aucun notebooks/*.ipynb dans le dépôt")
    return entry_id


@pytest.fixture(scope="module")
def users(docker_hub):
    return {name: docker_hub.create_user(name, ("experts",)) for name in ("alice", "bruno")}


def _url(hub, user, entry_id, path):
    return f"{hub.url}/user/{user}/{entry_id}/{path}"


def _get(hub, user, entry_id, path, token):
    return requests.get(
        _url(hub, user, entry_id, path),
        headers={"Authorization": f"token {token}"},
        timeout=30,
        allow_redirects=False,
    )


def _put_text(hub, user, entry_id, path, token, text):
    r = requests.put(
        _url(hub, user, entry_id, f"api/contents/{path}"),
        headers={"Authorization": f"token {token}"},
        json={"type": "file", "format": "text", "content": text},
        timeout=30,
    )
    assert r.status_code in (200, 201), r.text


def _read_text(hub, user, entry_id, path, token):
    r = _get(hub, user, entry_id, f"api/contents/{path}?type=file&format=text", token)
    assert r.status_code == 200, (path, r.status_code, r.text[:300])
    return r.json()["content"]


def execute(hub, user, entry_id, token, code, timeout=60):
    """Run ``code`` on a new python3 kernel of the server, through the proxy; its stdout."""
    base = _url(hub, user, entry_id, "api/kernels")
    headers = {"Authorization": f"token {token}"}
    r = requests.post(base, headers=headers, json={"name": "python3"}, timeout=30)
    assert r.status_code == 201, r.text
    kernel_id = r.json()["id"]
    ws = websocket.create_connection(
        base.replace("http://", "ws://") + f"/{kernel_id}/channels",
        header=[f"Authorization: token {token}"],
        timeout=timeout,
    )
    out, msg_id = [], uuid.uuid4().hex
    try:
        ws.send(
            json.dumps(
                {
                    "header": {
                        "msg_id": msg_id,
                        "msg_type": "execute_request",
                        "username": user,
                        "session": uuid.uuid4().hex,
                        "version": "5.3",
                    },
                    "parent_header": {},
                    "metadata": {},
                    "content": {"code": code, "silent": False},
                    "channel": "shell",
                }
            )
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            msg = json.loads(ws.recv())
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind = msg["msg_type"]
            if kind == "stream":
                out.append(msg["content"]["text"])
            elif kind == "error":
                raise AssertionError("\n".join(msg["content"]["traceback"]))
            elif kind == "status" and msg["content"]["execution_state"] == "idle":
                return "".join(out)
        raise TimeoutError(code)
    finally:
        ws.close()
        requests.delete(f"{base}/{kernel_id}", headers=headers, timeout=30)


def _running(hub, user):
    return hub.api("GET", f"users/{user}").json().get("servers", {})


def _fresh_start(hub, user, entry_id, **options):
    """Start ``user``'s server for ``entry_id``, stopping it first if it runs."""
    if entry_id in _running(hub, user):
        hub.stop_server(user, entry_id)
    return hub.start_server(user, entry_id, **options)


def _container(client, prefix, user, entry_id):
    found = client.containers.list(
        filters={"label": [f"{LABEL_USER}={user}", f"{LABEL_ENTRY}={entry_id}"]}
    )
    found = [c for c in found if c.name.startswith(prefix)]
    assert len(found) == 1, [c.name for c in found]
    return found[0]


def _volumes(client, prefix, user):
    return sorted(
        v.name
        for v in client.volumes.list(filters={"label": f"{LABEL_USER}={user}"})
        if v.name.startswith(prefix)
    )


def _wait_gone(client, name, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            client.containers.get(name)
        except NotFound:
            return True
        time.sleep(0.1)
    return False


def test_image_is_unprivileged_and_runs_the_hubs_jupyterhub(image, docker_client):
    import jupyterhub

    assert image.attrs["Config"]["User"] not in ("", "0", "root")
    out = docker_client.containers.run(
        image.id,
        ["jupyterhub-singleuser", "--version"],
        entrypoint=[],
        network_mode="none",
        remove=True,
    )
    assert out.decode().strip() == jupyterhub.__version__


@pytest.mark.parametrize("entry_id", ENTRIES)
def test_launch_seeds_the_entry_in_its_own_limited_container(
    docker_hub, docker_client, users, prefix, entry_id
):
    entry_id = _entry(entry_id)
    seconds = _fresh_start(docker_hub, "alice", entry_id)
    assert seconds < 60
    container = _container(docker_client, prefix, "alice", entry_id)
    host_config = container.attrs["HostConfig"]
    assert host_config["NetworkMode"] == "host"
    assert host_config["Memory"] == 512 * 1024**2
    assert host_config["NanoCpus"] or host_config["CpuQuota"] == 100_000
    assert host_config["CapDrop"] == ["ALL"] and host_config["AutoRemove"] is True
    mounts = [(m["Type"], m.get("Name"), m["Destination"]) for m in container.attrs["Mounts"]]
    assert mounts == [("volume", f"{prefix}-alice--{entry_id}", USER_HOME)]
    token = users["alice"]
    listing = _get(docker_hub, "alice", entry_id, f"api/contents/{entry_id}", token).json()
    names = {item["name"] for item in listing["content"]}
    assert f"{entry_id}.ipynb" in names and "donnees" in names
    code = (
        "import os, models, pathlib\n"
        "print(os.getuid(), models.__file__)\n"
        f"print(sorted(p.name for p in pathlib.Path('{USER_HOME}').iterdir()))"
    )
    uid_line, dirs = execute(docker_hub, "alice", entry_id, token, code).strip().splitlines()
    assert uid_line.startswith("1000 /opt/biblio-ia/models/")
    assert entry_id in dirs
    docker_hub.stop_server("alice", entry_id)


def test_edits_survive_stop_and_relaunch_and_the_container_is_removed(
    docker_hub, docker_client, users, prefix
):
    entry_id = _entry(ENTRIES[0])
    token = users["alice"]
    _fresh_start(docker_hub, "alice", entry_id)
    name = _container(docker_client, prefix, "alice", entry_id).name
    note = f"notes de travail {uuid.uuid4().hex}"
    _put_text(docker_hub, "alice", entry_id, f"{entry_id}/notes.txt", token, note)
    nb_path = f"{entry_id}/{entry_id}.ipynb"
    nb = _get(docker_hub, "alice", entry_id, f"api/contents/{nb_path}", token).json()["content"]
    nb["cells"].append({"cell_type": "markdown", "metadata": {}, "source": note})
    r = requests.put(
        _url(docker_hub, "alice", entry_id, f"api/contents/{nb_path}"),
        headers={"Authorization": f"token {token}"},
        json={"type": "notebook", "content": nb},
        timeout=30,
    )
    assert r.status_code == 200, r.text

    t0 = time.perf_counter()
    docker_hub.stop_server("alice", entry_id)
    assert _wait_gone(docker_client, name), "container left after stop"
    stop_seconds = time.perf_counter() - t0
    assert f"{prefix}-alice--{entry_id}" in _volumes(docker_client, prefix, "alice")

    _fresh_start(docker_hub, "alice", entry_id)
    assert _read_text(docker_hub, "alice", entry_id, f"{entry_id}/notes.txt", token) == note
    nb = _get(docker_hub, "alice", entry_id, f"api/contents/{nb_path}", token).json()["content"]
    assert nb["cells"][-1]["source"] == note
    assert stop_seconds < 30


def test_reset_restores_the_original_and_keeps_a_backup(docker_hub, users):
    entry_id = _entry(ENTRIES[0])
    token = users["alice"]
    _fresh_start(docker_hub, "alice", entry_id)
    _put_text(docker_hub, "alice", entry_id, f"{entry_id}/avant-reset.txt", token, "à garder")
    docker_hub.stop_server("alice", entry_id)
    _fresh_start(docker_hub, "alice", entry_id, reset=uuid.uuid4().hex)
    listing = _get(docker_hub, "alice", entry_id, f"api/contents/{entry_id}", token).json()
    assert "avant-reset.txt" not in {i["name"] for i in listing["content"]}
    backups = _get(docker_hub, "alice", entry_id, "api/contents/sauvegardes", token).json()
    (backup,) = [b for b in backups["content"] if b["name"].startswith(entry_id)][-1:]
    kept = _read_text(docker_hub, "alice", entry_id, f"{backup['path']}/avant-reset.txt", token)
    assert kept == "à garder"
    # a plain relaunch does not reset again
    _put_text(docker_hub, "alice", entry_id, f"{entry_id}/apres-reset.txt", token, "ok")
    docker_hub.stop_server("alice", entry_id)
    _fresh_start(docker_hub, "alice", entry_id)
    assert _read_text(docker_hub, "alice", entry_id, f"{entry_id}/apres-reset.txt", token) == "ok"


def test_users_are_isolated(docker_hub, docker_client, users, prefix):
    entry_id = _entry(ENTRIES[0])
    _fresh_start(docker_hub, "alice", entry_id)
    _fresh_start(docker_hub, "bruno", entry_id)
    secret = f"secret d'alice {uuid.uuid4().hex}"
    _put_text(docker_hub, "alice", entry_id, f"{entry_id}/secret.txt", users["alice"], secret)
    # bruno's token opens nothing of alice's server
    r = _get(docker_hub, "alice", entry_id, f"api/contents/{entry_id}", users["bruno"])
    assert r.status_code in (302, 403, 404)
    # bruno's container mounts only bruno's volume, and alice's file is nowhere in it
    bruno = _container(docker_client, prefix, "bruno", entry_id)
    assert [m.get("Name") for m in bruno.attrs["Mounts"]] == [f"{prefix}-bruno--{entry_id}"]
    # The secret travels reversed: the kernel's own input history must not contain it.
    code = (
        "import subprocess\n"
        f"secret = {secret[::-1]!r}[::-1]\n"
        "r = subprocess.run(['grep', '-rl', secret, '/home', '/tmp', '/opt/biblio-ia'],"
        " capture_output=True, text=True)\n"
        "print(repr(r.stdout))"
    )
    assert execute(docker_hub, "bruno", entry_id, users["bruno"], code).strip() == "''"
    # the same search in alice's server finds it: the check above can fail
    found = execute(docker_hub, "alice", entry_id, users["alice"], code).strip()
    assert f"{entry_id}/secret.txt" in found


def test_memory_limit_is_enforced(docker_hub, docker_client, users, prefix):
    entry_id = _entry(ENTRIES[0])
    _fresh_start(docker_hub, "alice", entry_id)
    container = _container(docker_client, prefix, "alice", entry_id)
    fill = "python -c \"b = b'x' * ({} * 1024 * 1024); print(len(b))\""
    small = container.exec_run(["sh", "-c", fill.format(100)])
    assert small.exit_code == 0, small.output
    big = container.exec_run(["sh", "-c", fill.format(800)])
    assert big.exit_code == 137, (big.exit_code, big.output[-300:])  # SIGKILL by the OOM killer


def test_deleting_a_server_then_the_user_erases_their_volumes(docker_hub, docker_client, prefix):
    entry_id = _entry(ENTRIES[0])
    docker_hub.create_user("chloe", ("experts",))
    _fresh_start(docker_hub, "chloe", entry_id)
    docker_hub.stop_server("chloe", entry_id)
    assert _volumes(docker_client, prefix, "chloe") == [f"{prefix}-chloe--{entry_id}"]
    r = docker_hub.api("DELETE", f"users/chloe/servers/{entry_id}", json={"remove": True})
    assert r.status_code in (202, 204), r.text
    deadline = time.monotonic() + 20
    while _volumes(docker_client, prefix, "chloe") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _volumes(docker_client, prefix, "chloe") == []

    _fresh_start(docker_hub, "chloe", entry_id)
    docker_hub.stop_server("chloe", entry_id)
    assert _volumes(docker_client, prefix, "chloe")
    r = docker_hub.api("DELETE", "users/chloe")
    assert r.status_code == 204, r.text
    assert _volumes(docker_client, prefix, "chloe") == []
