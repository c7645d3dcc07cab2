"""Docker layer: a joint workspace in docker mode, on the session's real hub and engine.

The expert ``dockalice`` creates a workspace from canteen_attendance through the ``espaces``
service; it runs in its own container whose only mount is its folder (made on the hub's
side, handed to the image's user); ``dockbruno`` is invited and gets in, ``dockchloe``
(an expert, not a member) gets 403; Bruno's code runs inside the container; his commit is
authored by him; the stop with his kernel connected is bounded (``docker stop`` timeout) and
his file is there after a restart. The tests run in file order.
"""

import subprocess
import time

import pytest
import requests
import websocket

from hub.spawners.docker_config import WORK_DIR
from hub.spawners.docker_spawner import LABEL_ENTRY, LABEL_USER
from hub.workspaces.folder import member_identity
from hub.workspaces.spawn import IMAGE_UID, STOP_GRACE
from tests.support.kernel import Kernel

ENTRY = "canteen_attendance"
WS = "ws-cantines-conteneur"
OWNER, MEMBER, STRANGER = "dockalice", "dockbruno", "dockchloe"
STOP_LIMIT = 5.0  # docs/workspaces.md: a workspace stops in at most 5 s


def _h(token):
    return {"Authorization": f"token {token}"}


def _service(hub, method, path, token, **kwargs):
    return requests.request(method, f"{hub.url}/services/espaces/{path}", headers=_h(token),
                            timeout=120, allow_redirects=False, **kwargs)  # fmt: skip


def _ws(hub, path, token, method="GET", **kwargs):
    return requests.request(method, f"{hub.url}/user/{OWNER}/{WS}/{path}", headers=_h(token),
                            timeout=60, allow_redirects=False, **kwargs)  # fmt: skip


def _git(folder, *args):
    """git on the hub's side, as the hub reads the folder (owned by the image's user)."""
    return subprocess.run(
        ["git", "-c", f"safe.directory={folder.resolve()}", *args],
        cwd=folder, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip


def _container(docker_client):
    found = docker_client.containers.list(
        filters={"label": [f"{LABEL_USER}={OWNER}", f"{LABEL_ENTRY}={WS}"]}
    )
    assert len(found) == 1, [c.name for c in found]
    return found[0]


@pytest.fixture(scope="module")
def tokens(docker_hub):
    return docker_hub.create_users([OWNER, MEMBER, STRANGER], ("experts",))


@pytest.fixture(scope="module")
def workspace(docker_hub, tokens):
    t0 = time.monotonic()
    r = _service(docker_hub, "POST", "nouveau", tokens[OWNER],
                 data={"titre": "Cantines conteneur", "entree": ENTRY})  # fmt: skip
    assert r.status_code == 302, r.text[:500]
    r = requests.get(docker_hub.url + r.headers["Location"], headers=_h(tokens[OWNER]),
                     allow_redirects=False, timeout=120)  # fmt: skip
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/user/{OWNER}/{WS}/")
    print(f"workspace created and running in {time.monotonic() - t0:.1f} s")
    return docker_hub.state_dir / "espaces" / OWNER / WS


def test_the_workspace_runs_in_its_own_container_with_only_its_folder(
    docker_hub, docker_client, workspace
):
    container = _container(docker_client)
    mounts = container.attrs["Mounts"]
    assert [(m["Type"], m["Source"], m["Destination"], m["RW"]) for m in mounts] == [
        ("bind", str(workspace.resolve()), WORK_DIR, True)
    ]  # no named volume, no other user's
    config = container.attrs["Config"]
    env = dict(item.split("=", 1) for item in config["Env"])
    assert env["JUPYTER_CONFIG_PATH"] == (
        "/opt/biblio-ia/hub/jupyter/espace:/opt/biblio-ia/hub/jupyter"
    )
    assert env["PYTHONPATH"] == WORK_DIR and "BIBLIO_ENTRY_ID" not in env
    host_paths = [k for k, v in env.items() if str(docker_hub.workdir) in v]
    assert not host_paths, host_paths
    assert config["StopTimeout"] == STOP_GRACE["stop_timeout"]
    assert any(a.startswith("--HubOAuth.cache_max_age=") for a in config["Cmd"])
    # the folder: made by the hub (root) from the entry, handed to the image's user, 0700
    st = workspace.stat()
    assert (st.st_uid, st.st_gid, st.st_mode & 0o777) == (IMAGE_UID, IMAGE_UID, 0o700)
    assert (workspace / "notebooks" / f"{ENTRY}.ipynb").is_file()
    assert _git(workspace, "log", "--format=%an|%cn").splitlines() == [f"{OWNER}|Espace {WS}"]


def test_a_member_gets_in_runs_code_in_the_container_a_stranger_gets_403(
    docker_hub, tokens, workspace
):
    b = tokens[MEMBER]
    r = _service(docker_hub, "POST", f"inviter/{WS}", tokens[OWNER], data={"membre": MEMBER})
    assert r.status_code == 302, r.text[:300]
    assert _ws(docker_hub, "api/contents/notebooks", b).status_code == 200
    assert _ws(docker_hub, "api/contents", tokens[STRANGER]).status_code == 403
    assert _service(docker_hub, "GET", f"ouvrir/{OWNER}/{WS}", tokens[STRANGER]).status_code == 403
    # a member's code runs as the image's user, inside the container: the workspace's folder
    # and its own models package, nothing of the host
    kernel = Kernel(docker_hub, OWNER, WS, b, path="notebooks")  # as the notebook's kernel
    out = kernel.run(
        "import os, models\n"
        f"print(os.getuid(), os.getcwd(), models.__file__, os.path.exists({str(workspace)!r}))"
    )
    kernel.close()
    uid, cwd, models_file, sees_host = out.split()
    assert (int(uid), sees_host) == (IMAGE_UID, "False")
    assert cwd == f"{WORK_DIR}/notebooks" and models_file.startswith(f"{WORK_DIR}/models/")


def test_a_members_commit_is_authored_by_the_member(docker_hub, tokens, workspace):
    b = tokens[MEMBER]
    r = _ws(docker_hub, "api/contents/notes_bruno.md", b, "PUT",
            json={"type": "file", "format": "text", "content": "Essai de Bruno\n"})  # fmt: skip
    assert r.status_code in (200, 201), r.text[:300]
    assert _ws(docker_hub, "git/add", b, "POST", json={"add_all": True}).status_code == 200
    r = _ws(docker_hub, "git/commit", b, "POST",
            json={"commit_msg": "Note de Bruno", "author": member_identity(OWNER)})  # fmt: skip
    assert r.status_code == 200, r.text[:300]
    assert _git(workspace, "log", "-1", "--format=%an <%ae>|%cn|%s").strip() == (
        f"{member_identity(MEMBER)}|Espace {WS}|Note de Bruno"
    )
    assert (workspace / "notes_bruno.md").stat().st_uid == IMAGE_UID
    page = _service(docker_hub, "GET", "", tokens[OWNER]).text  # the hub reads the history
    assert f"Note de Bruno — <em>{MEMBER}</em>" in page
    bundle = _service(docker_hub, "GET", f"export/{OWNER}/{WS}", b)  # and exports it
    assert bundle.status_code == 200 and bundle.content.startswith(b"# v2 git bundle")


def test_stop_is_bounded_and_files_survive_a_restart(docker_hub, docker_client, tokens, workspace):
    b = tokens[MEMBER]
    before = _container(docker_client).id
    kernel = Kernel(docker_hub, OWNER, WS, b)
    conn = websocket.create_connection(  # a member connected during the stop
        kernel.base.replace("http://", "ws://") + f"/{kernel.id}/channels",
        header=[f"Authorization: token {b}"], timeout=30,
    )  # fmt: skip
    # ... with the notebook open as a collaborative document (what slows its shutdown down)
    r = _ws(docker_hub, f"api/collaboration/session/notebooks/{ENTRY}.ipynb", b, "PUT",
            json={"format": "json", "type": "notebook"})  # fmt: skip
    assert r.status_code in (200, 201), r.text[:300]
    room = r.json()
    doc = websocket.create_connection(
        f"{docker_hub.url}/user/{OWNER}/{WS}/api/collaboration/room/".replace("http", "ws", 1)
        + f"json:notebook:{room['fileId']}?sessionId={room['sessionId']}",
        header=[f"Authorization: token {b}"], timeout=30,
    )  # fmt: skip
    assert doc.recv()  # the document's first sync message
    try:
        t0 = time.monotonic()
        r = _service(docker_hub, "POST", f"arreter/{WS}", tokens[OWNER])
        assert r.status_code == 302
        docker_hub.wait_stopped(OWNER, WS, timeout=30)
        took = time.monotonic() - t0
    finally:
        conn.close()
        doc.close()
    died = docker_client.events(since=int(t0) - 1, until=int(time.time()) + 1, decode=True,
                                filters={"container": before, "event": "die"})  # fmt: skip
    code = next((e["Actor"]["Attributes"].get("exitCode") for e in died), "?")
    print(f"workspace stop (docker mode, a member's kernel and notebook open): {took:.2f} s, "
          f"exit code {code} (137: SIGKILL after the stop timeout)")  # fmt: skip
    assert took <= STOP_LIMIT, f"arrêt en {took:.1f} s"
    assert not (workspace / ".jupyter_ystore.db").exists()  # collaboration's cache: not here
    assert not docker_client.containers.list(all=True, filters={"id": before})  # removed
    # the member reopens it (the service starts it): a new container, the same files
    r = _service(docker_hub, "GET", f"ouvrir/{OWNER}/{WS}", b)
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/user/{OWNER}/{WS}/")
    assert _container(docker_client).id != before
    r = _ws(docker_hub, "api/contents/notes_bruno.md", b)
    assert r.status_code == 200 and r.json()["content"] == "Essai de Bruno\n"
    assert len(_git(workspace, "log", "--format=%H").split()) == 2
    docker_hub.stop_server(OWNER, WS)
