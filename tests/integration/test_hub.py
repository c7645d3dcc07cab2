"""The hub end to end over HTTP: launch, seed, kernel, edits, reset, isolation, tiers."""

import json
import re
import stat
import time
import uuid
from pathlib import Path

import psutil
import pytest
import requests

from hub.config.settings import Settings
from hub.spawners import launch
from models.entries import entry_ids, entry_paths
from tests.support.kernel import Kernel

ENTRY_REPO = Settings.from_env().repo_root
ENTRIES = entry_ids(ENTRY_REPO) or [None]


def _entry(entry_id):
    if entry_id is None:
        pytest.fail(f"aucune entrée : aucun notebooks/*.ipynb dans {ENTRY_REPO}")
    return entry_id


@pytest.fixture(scope="module")
def users(live_hub):
    return {
        "alice": live_hub.create_user("alice", ("experts",)),
        "bruno": live_hub.create_user("bruno", ("experts",)),
        "carole": live_hub.create_user("carole", ("collectivites",)),
        "denis": live_hub.create_user("denis"),
    }


def _server_get(hub, user, entry_id, path, token, **kwargs):
    url = f"{hub.url}/user/{user}/{entry_id}/{path}"
    return requests.get(
        url,
        headers={"Authorization": f"token {token}"},
        timeout=30,
        allow_redirects=False,
        **kwargs,
    )


def _contents(hub, user, entry_id, path, token):
    r = _server_get(hub, user, entry_id, f"api/contents/{path}", token)
    assert r.status_code == 200, (path, r.status_code, r.text[:300])
    return r.json()


def _put_file(hub, user, entry_id, path, token, text):
    r = requests.put(
        f"{hub.url}/user/{user}/{entry_id}/api/contents/{path}",
        headers={"Authorization": f"token {token}"},
        json={"type": "file", "format": "text", "content": text},
        timeout=30,
    )
    assert r.status_code in (200, 201), r.text


def execute(hub, user, entry_id, token, code, timeout=60):
    """Run ``code`` on a new python3 kernel of the server, started in the entry's folder."""
    kernel = Kernel(hub, user, entry_id, token, path=entry_id)
    try:
        return kernel.run(code, timeout=timeout)
    finally:
        kernel.close()


def _workdir(hub, user, entry_id):
    return hub.state_dir / "users" / user / entry_id


def test_there_is_at_least_one_entry():
    assert entry_ids(ENTRY_REPO), f"aucun notebooks/*.ipynb dans {ENTRY_REPO}"


@pytest.mark.parametrize("entry_id", ENTRIES)
def test_demonstrator_lifecycle(live_hub, users, entry_id):
    entry_id = _entry(entry_id)
    hub, token = live_hub, users["alice"]
    paths = entry_paths(entry_id, ENTRY_REPO)

    # 1. launch through the REST API with the user's own token; seeded on first launch
    hub.start_server("alice", entry_id, token=token)
    nb = _contents(hub, "alice", entry_id, f"{entry_id}/{entry_id}.ipynb", token)
    assert nb["type"] == "notebook" and nb["content"]["cells"]
    data = _contents(hub, "alice", entry_id, f"{entry_id}/donnees", token)
    names = {item["name"] for item in data["content"]}
    expected = {p.name for p in paths.dataset_dir.iterdir() if p.is_file()}
    assert expected and expected <= names

    # 2. code on a python3 kernel through the proxy: models importable, data readable
    out = execute(
        hub,
        "alice",
        entry_id,
        token,
        "import os, json, models\n"
        "print(json.dumps({'models': models.__file__, 'cwd': os.getcwd(),"
        " 'data': sorted(os.listdir('donnees'))}))",
    )
    result = json.loads(out.strip().splitlines()[-1])
    assert Path(result["cwd"]) == _workdir(hub, "alice", entry_id)
    assert set(result["data"]) >= expected
    assert Path(result["models"]).resolve().parent.name == "models"

    # 3. edits, stop, relaunch: the edits survived
    marker = f"modification {uuid.uuid4().hex}"
    _put_file(hub, "alice", entry_id, f"{entry_id}/mes_notes.txt", token, marker)
    edited = dict(nb["content"])
    edited["cells"] = [
        *edited["cells"],
        {"cell_type": "markdown", "metadata": {}, "source": marker},
    ]
    r = requests.put(
        f"{hub.url}/user/alice/{entry_id}/api/contents/{entry_id}/{entry_id}.ipynb",
        headers={"Authorization": f"token {token}"},
        json={"type": "notebook", "format": "json", "content": edited},
        timeout=30,
    )
    assert r.status_code == 200, r.text
    hub.stop_server("alice", entry_id)
    r = _server_get(hub, "alice", entry_id, "api/contents", token)
    assert r.status_code in (302, 404, 424, 503), "a stopped server does not answer"
    hub.start_server("alice", entry_id, token=token)
    again = _contents(hub, "alice", entry_id, f"{entry_id}/{entry_id}.ipynb", token)
    assert again["content"]["cells"][-1]["source"] == marker
    notes = _contents(hub, "alice", entry_id, f"{entry_id}/mes_notes.txt", token)
    assert notes["content"] == marker

    # 4. reset (server stopped): fresh notebook, the edited one kept in a backup
    hub.stop_server("alice", entry_id)
    hub.start_server("alice", entry_id, token=token, reset=uuid.uuid4().hex)
    fresh = _workdir(hub, "alice", entry_id) / f"{entry_id}.ipynb"
    assert fresh.read_bytes() == paths.notebook.read_bytes()
    backups = sorted((hub.state_dir / "users" / "alice" / "sauvegardes").glob(f"{entry_id}-*"))
    assert backups, "reset keeps a timestamped backup"
    assert (backups[-1] / "mes_notes.txt").read_text(encoding="utf-8") == marker
    hub.stop_server("alice", entry_id)


@pytest.mark.parametrize("entry_id", ENTRIES)
def test_another_users_server_is_out_of_reach(live_hub, users, entry_id):
    entry_id = _entry(entry_id)
    hub = live_hub
    hub.start_server("alice", entry_id, token=users["alice"])
    try:
        mine = _server_get(hub, "alice", entry_id, "api/contents", users["alice"])
        assert mine.status_code == 200
        for intruder in ("bruno", "carole", "denis"):
            r = _server_get(hub, "alice", entry_id, "api/contents", users[intruder])
            assert r.status_code in (403, 404), (intruder, r.status_code)
            r = hub.api("DELETE", f"users/alice/servers/{entry_id}", token=users[intruder])
            assert r.status_code in (403, 404), (intruder, r.status_code)
            r = hub.api("GET", "users/alice", token=users[intruder])
            assert r.status_code in (403, 404)
        anonymous = requests.get(
            f"{hub.url}/user/alice/{entry_id}/api/contents", timeout=30, allow_redirects=False
        )
        assert anonymous.status_code in (302, 403)
    finally:
        hub.stop_server("alice", entry_id)


@pytest.mark.parametrize("entry_id", ENTRIES)
def test_only_experts_and_admins_may_start_servers(live_hub, users, entry_id):
    entry_id = _entry(entry_id)
    hub = live_hub
    for name in ("carole", "denis"):
        r = hub.api("POST", f"users/{name}/servers/{entry_id}", token=users[name])
        assert r.status_code == 403, (name, r.status_code, r.text)
        model = hub.api("GET", f"users/{name}", token=users[name])
        assert model.status_code == 200 and "servers" not in model.json()
    r = hub.api("POST", f"users/bruno/servers/{entry_id}", token=users["alice"])
    assert r.status_code in (403, 404), "an expert starts only their own servers"


REFUSED_NAMES = ["pas_une_entree", "a" * 5000, "a%2Fb", "x%00y"] + [f"essai_{i}" for i in range(8)]


def test_unknown_demonstrators_are_refused_before_any_record(live_hub):
    """Refused names store nothing: more than the named-server limit (8) of them
    never use it up."""
    token = live_hub.create_user("emile", ("experts",))
    for name in REFUSED_NAMES:
        r = live_hub.api("POST", f"users/emile/servers/{name}", token=token)
        assert r.status_code == 404, (name[:20], r.status_code, r.text[:200])
        assert "Démonstrateur inconnu" in r.json()["message"]
    assert live_hub.api("GET", "users/emile").json()["servers"] == {}
    assert not (live_hub.state_dir / "users" / "emile" / "pas_une_entree").exists()
    entry_id = _entry(ENTRIES[0])
    r = live_hub.api("POST", f"users/emile/servers/{entry_id}", token=token)
    try:
        assert r.status_code in (201, 202), r.text  # not "maximum of 8 named servers"
    finally:
        live_hub.stop_server("emile", entry_id)


def _login(hub, name, password):
    s = requests.Session()
    r = s.get(f"{hub.url}/hub/login", timeout=30)
    assert r.status_code == 200
    xsrf = s.cookies.get("_xsrf")
    r = s.post(
        f"{hub.url}/hub/login",
        data={"username": name, "password": password, "_xsrf": xsrf},
        timeout=30,
        allow_redirects=False,
    )
    assert r.status_code == 302, (name, r.status_code, r.text[:500])
    return s


def test_demo_accounts_printed_once_with_random_passwords(live_hub):
    printed = live_hub.printed_passwords()
    assert set(printed) == {"admin", "expert", "experte", "collectivite"}
    assert len(set(printed.values())) == 4 and all(len(p) >= 16 for p in printed.values())
    assert live_hub.log_text().count("Ces mots de passe ne seront plus affichés") == 1
    bad = requests.Session()
    bad.get(f"{live_hub.url}/hub/login", timeout=30)
    r = bad.post(
        f"{live_hub.url}/hub/login",
        data={
            "username": "expert",
            "password": "mauvais-mot-de-passe",
            "_xsrf": bad.cookies.get("_xsrf"),
        },
        timeout=30,
        allow_redirects=False,
    )
    assert r.status_code != 302


@pytest.mark.parametrize("entry_id", ENTRIES)
def test_launch_link_opens_the_notebook_for_a_logged_in_expert(live_hub, entry_id):
    entry_id = _entry(entry_id)
    hub = live_hub
    session = _login(hub, "expert", hub.printed_passwords()["expert"])
    url = hub.url + launch.launch_url("/", "expert", entry_id)
    r = session.get(url, timeout=90)
    # a slow start goes through /hub/spawn-pending, which redirects once the server is ready
    deadline = time.monotonic() + 60
    while "/hub/spawn-pending/" in r.url and time.monotonic() < deadline:
        time.sleep(0.3)
        r = session.get(r.url, timeout=30)
    try:
        assert r.status_code == 200
        assert r.url.endswith(launch.notebook_url("/", "expert", entry_id))
        assert "jupyter-config-data" in r.text
        config = json.loads(
            re.search(r'id="jupyter-config-data"[^>]*>(.*?)</script>', r.text, re.S).group(1)
        )
        assert config["treePath"] == launch.notebook_path(entry_id)
        assert config["workspace"] == entry_id, "one JupyterLab workspace per entry"
        # JupyterLab settings reach the browser: no news, French
        api = f"{hub.url}/user/expert/{entry_id}/lab/api/settings"
        notif = session.get(f"{api}/@jupyterlab/apputils-extension:notification", timeout=30)
        props = notif.json()["schema"]["properties"]
        assert props["fetchNews"]["default"] == "false"
        assert props["checkForUpdates"]["default"] is False
        lang = session.get(f"{api}/@jupyterlab/translation-extension:plugin", timeout=30)
        assert lang.json()["schema"]["properties"]["locale"]["default"] == "fr_FR"
        packs = session.get(f"{hub.url}/user/expert/{entry_id}/lab/api/translations", timeout=30)
        assert "fr_FR" in packs.json()["data"]
        lsp = session.get(f"{hub.url}/user/expert/{entry_id}/lsp/status", timeout=30)
        assert lsp.status_code == 404, "jupyter_lsp is not loaded"
    finally:
        hub.stop_server("expert", entry_id)


@pytest.mark.parametrize("entry_id", ENTRIES)
def test_launch_link_is_refused_to_a_collectivite(live_hub, entry_id):
    entry_id = _entry(entry_id)
    session = _login(live_hub, "collectivite", live_hub.printed_passwords()["collectivite"])
    r = session.get(live_hub.url + launch.launch_url("/", "collectivite", entry_id), timeout=30)
    assert r.status_code == 403
    state = live_hub.api("GET", "users/collectivite").json()["servers"]
    assert entry_id not in state


def test_idle_culler_runs_with_its_narrow_role(live_hub):
    r = live_hub.api("GET", "services/idle-culler")
    assert r.status_code == 200
    assert r.json()["roles"] == ["idle-culler-role"]
    log = live_hub.log_text()
    assert re.search(r"200 GET /hub/api/users\S* \(idle-culler@", log)
    assert not re.search(r" 403 \w+ \S+ \(idle-culler@", log)


def test_secrets_private_and_everything_on_loopback(live_hub):
    secrets_dir = live_hub.state_dir / "secrets"
    files = list(secrets_dir.iterdir())
    assert files and all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in files)
    root = psutil.Process(live_hub.proc.pid)
    procs = [root, *root.children(recursive=True)]
    listening = [
        c.laddr
        for p in procs
        for c in p.net_connections(kind="inet")
        if c.status == psutil.CONN_LISTEN
    ]
    assert listening, "the hub and the proxy listen somewhere"
    assert all(addr.ip in ("127.0.0.1", "::1") for addr in listening), listening
