"""Joint workspaces without a hub: names, the folder and its history, the export, settings."""

import os
import subprocess
import types

import pytest
import traitlets.config

from hub.config import roles
from hub.config.configure import configure
from hub.workspaces import config as wsconfig
from hub.workspaces import folder, names, spawn
from models.entries import REPO_ROOT

ENTRY = "canteen_attendance"


def _git(path, *args):
    return subprocess.run(
        ["git", *args], cwd=path, capture_output=True, text=True, check=True
    ).stdout


@pytest.mark.parametrize(
    ("title", "server"),
    [
        ("Cantines de l'Ouest", "ws-cantines-de-l-ouest"),
        ("  Qualité de l'air — Lyon 2027 ", "ws-qualite-de-l-air-lyon-2027"),
        ("Vélos", "ws-velos"),
    ],
)
def test_server_name_from_a_french_title(title, server):
    assert names.server_name(title) == server
    assert names.is_workspace(server)


def test_the_server_name_gate_lets_workspaces_through():
    from hub.spawners.names import refusal

    assert refusal("ws-cantines", REPO_ROOT) is None
    assert refusal(ENTRY, REPO_ROOT) is None
    assert "Démonstrateur inconnu" in refusal("ws-", REPO_ROOT)
    assert "Démonstrateur inconnu" in refusal("ws-A/b", REPO_ROOT)


def test_names_refused_or_not_workspaces():
    with pytest.raises(names.WorkspaceError, match="au moins une lettre"):
        names.server_name("« — »")
    assert len(names.server_name("x" * 200)) == len(names.PREFIX) + names.SLUG_MAX
    for other in ("canteen_attendance", "ws-", "ws-A", "ws-a/b", "ws--a", ""):
        assert not names.is_workspace(other), other
    with pytest.raises(names.WorkspaceError):
        names.check_server_name("canteen_attendance")
    with pytest.raises(names.WorkspaceError):
        folder.workspace_dir("/tmp", "../x", "ws-a")


def test_created_from_an_entry_library_layout_first_commit_by_owner(tmp_path):
    assert folder.create_workspace(
        tmp_path, "alice", "ws-a", title="Essai", entry_id=ENTRY, repo_root=REPO_ROOT
    )
    ws = tmp_path / "alice" / "ws-a"
    copied = {p.relative_to(ws).as_posix() for p in ws.rglob("*") if ".git" not in p.parts}
    assert f"notebooks/{ENTRY}.ipynb" in copied
    assert f"models/{ENTRY}/__init__.py" in copied and "models/entries.py" in copied
    assert f"datasets/{ENTRY}/sample.csv" in copied
    assert f"models/artifacts/{ENTRY}.skops" in copied
    assert not [p for p in copied if p.startswith(("models/air_quality", "notebooks/air"))]
    assert not [p for p in copied if "__pycache__" in p]
    assert (ws / f"notebooks/{ENTRY}.ipynb").read_bytes() == (
        REPO_ROOT / f"notebooks/{ENTRY}.ipynb"
    ).read_bytes()
    assert folder.history(ws) == [
        {
            "auteur": "alice",
            "courriel": "alice@biblio-ia.invalid",
            "committer": "Espace ws-a",
            "sujet": f"Création de l'espace « Essai » à partir de l'entrée {ENTRY}",
        }
    ]
    assert _git(ws, "status", "--porcelain") == ""
    assert _git(ws, "branch", "--show-current").strip() == folder.BRANCH
    # a second creation keeps everything (a restart)
    (ws / "notes.md").write_text("garde-moi", encoding="utf-8")
    assert not folder.create_workspace(tmp_path, "alice", "ws-a", entry_id=ENTRY)
    assert (ws / "notes.md").read_text(encoding="utf-8") == "garde-moi"


def test_empty_workspace_and_unknown_entry_leave_nothing(tmp_path):
    assert folder.create_workspace(tmp_path, "bob", "ws-vide", title="Vide")
    ws = tmp_path / "bob" / "ws-vide"
    assert sorted(p.name for p in ws.iterdir() if p.name != ".git") == [".gitignore", "README.md"]
    with pytest.raises(LookupError, match="Entrée inconnue"):
        folder.create_workspace(tmp_path, "bob", "ws-x", entry_id="pas_une_entree")
    with pytest.raises(names.WorkspaceError, match="Entrée inconnue"):
        folder.create_workspace(tmp_path, "bob", "ws-y", entry_id="../etc")
    assert sorted(p.name for p in (tmp_path / "bob").iterdir()) == ["ws-vide"]  # no temp left


def test_exported_bundle_is_a_repository_biblio_accepts(tmp_path):
    folder.create_workspace(tmp_path, "alice", "ws-a", entry_id=ENTRY, repo_root=REPO_ROOT)
    ws = tmp_path / "alice" / "ws-a"
    (ws / "notes.md").write_text("Idée de Bruno\n", encoding="utf-8")
    _git(ws, "add", "--all")
    _git(ws, "commit", "-q", "--author", folder.member_identity("bruno"), "-m", "Note")
    bundle = folder.export_bundle(ws, tmp_path / "ws-a.bundle")
    clone = tmp_path / "proposition"
    subprocess.run(["git", "clone", "-q", str(bundle), str(clone)], check=True)
    assert _git(clone, "log", "--format=%an").split() == ["bruno", "alice"]
    from models.entries import entry_ids, require_entry

    assert entry_ids(clone) == [ENTRY]
    require_entry(ENTRY, clone)  # what biblio run --root <clone> looks up first


def test_workspace_environment_and_urls(tmp_path):
    env = spawn.workspace_environment(
        {"JUPYTER_CONFIG_PATH": "/a", "X": "1"}, tmp_path, spawn.WORKSPACE_CONFIG_DIR
    )
    assert env["JUPYTER_CONFIG_PATH"] == f"{spawn.WORKSPACE_CONFIG_DIR}:/a"
    assert env["PYTHONPATH"] == str(tmp_path) and env["X"] == "1"
    again = spawn.workspace_environment(env, tmp_path, spawn.WORKSPACE_CONFIG_DIR)
    assert again["JUPYTER_CONFIG_PATH"] == env["JUPYTER_CONFIG_PATH"]  # restart: no growth
    assert spawn.default_url(tmp_path, None) == "/lab"
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "notebooks" / f"{ENTRY}.ipynb").write_text("{}")
    assert spawn.default_url(tmp_path, ENTRY) == f"/lab/tree/notebooks/{ENTRY}.ipynb"


def test_a_workspace_server_is_pointed_at_its_folder(tmp_path):
    from hub.spawners.local import BiblioLocalSpawner

    no_confirm = set()
    user = types.SimpleNamespace(name="a", settings={"oauth_no_confirm_list": no_confirm})
    spawner = BiblioLocalSpawner(
        user=user, name="ws-x", environment={"JUPYTER_CONFIG_PATH": "/c"}, args=["--allow-root"]
    )
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "notebooks" / f"{ENTRY}.ipynb").write_text("{}")
    for _ in range(2):  # a restart changes nothing more
        spawn.point_at_workspace(spawner, tmp_path, None, access_check=20)
    assert spawner.notebook_dir == str(tmp_path)
    assert spawner.default_url == f"/lab/tree/notebooks/{ENTRY}.ipynb"
    assert spawner.args == ["--allow-root", "--HubOAuth.cache_max_age=20"]
    assert spawner.environment["PYTHONPATH"] == str(tmp_path)
    assert spawner.environment["JUPYTER_CONFIG_PATH"] == f"{spawn.WORKSPACE_CONFIG_DIR}:/c"
    grace = spawner.interrupt_timeout + spawner.term_timeout + spawner.kill_timeout
    assert grace <= 5  # jupyter-collaboration's slow shutdown is cut short
    assert not hasattr(spawner, "stop_timeout")  # only the traits a spawner has
    assert no_confirm == {spawner.oauth_client_id}


def test_oauth_confirmation_skipped_only_through_the_hub_set():
    no_confirm = {"service-catalog"}
    user = types.SimpleNamespace(settings={"oauth_no_confirm_list": no_confirm})
    spawner = types.SimpleNamespace(user=user, oauth_client_id="jupyterhub-user-a-ws-x")
    assert spawn.skip_oauth_confirmation(spawner)
    assert no_confirm == {"service-catalog", "jupyterhub-user-a-ws-x"}
    bare = types.SimpleNamespace(user=types.SimpleNamespace(settings={}), oauth_client_id="x")
    assert not spawn.skip_oauth_confirmation(bare)


def test_workspace_scope_for_experts_and_admins_only():
    r = {role["name"]: role for role in roles.load_roles("admin")}
    assert roles.SCOPE_WORKSPACES in roles.CUSTOM_SCOPES
    assert roles.SCOPE_WORKSPACES in r["biblio-expert"]["scopes"]
    assert roles.SCOPE_WORKSPACES in r["biblio-admin"]["scopes"]
    assert roles.SCOPE_WORKSPACES not in r["biblio-collectivite"]["scopes"]
    assert roles.SCOPE_WORKSPACES not in r["user"]["scopes"]


def test_service_role_is_limited_to_possible_owners(tmp_path):
    c = traitlets.config.Config()
    s = configure(c, {"BIBLIO_STATE_DIR": str(tmp_path), "BIBLIO_WORKSPACES_PORT": "18999"})
    service = next(x for x in c.JupyterHub.services if x["name"] == wsconfig.SERVICE_NAME)
    assert service["url"] == "http://127.0.0.1:18999"
    assert str(s.workspaces_dir) in service["command"]
    assert service["oauth_client_allowed_scopes"] == [roles.SCOPE_WORKSPACES]
    role = next(r for r in c.JupyterHub.load_roles if r["name"] == "espaces-role")
    for scope in role["scopes"]:
        base, _, scope_filter = scope.partition("!")
        if base in {"read:users:name", "read:users:shares"}:
            assert not scope_filter  # read-only, any user: share by name, list one's shares
        else:
            assert scope_filter in {"group=experts", "group=admins", "user=admin"}, scope
    assert "admin:users" not in role["scopes"] and "servers" not in role["scopes"]
    assert c.JupyterHub.template_vars["biblio_workspaces_url"] == "/services/espaces/"
    user_role = next(r for r in c.JupyterHub.load_roles if r["name"] == "user")
    assert "access:services!service=espaces" in user_role["scopes"]
    docker = traitlets.config.Config()
    configure(docker, {"BIBLIO_STATE_DIR": str(tmp_path), "BIBLIO_SPAWNER": "docker"})
    assert wsconfig.SERVICE_NAME in [x["name"] for x in docker.JupyterHub.services]
    k8s = traitlets.config.Config()
    configure(k8s, {"BIBLIO_STATE_DIR": str(tmp_path), "BIBLIO_SPAWNER": "kubernetes"})
    assert wsconfig.SERVICE_NAME not in [x["name"] for x in k8s.JupyterHub.services]


def test_a_workspace_container_sees_image_paths_only(tmp_path):
    """Docker mode: the same preparation, with the container's paths; its folder the only
    mount, a bounded ``docker stop``, no seeding."""
    from pathlib import PurePosixPath

    from hub.spawners import docker_config
    from hub.spawners.docker_spawner import BiblioDockerSpawner

    c = traitlets.config.Config()
    s = configure(c, {"BIBLIO_STATE_DIR": str(tmp_path / "state"), "BIBLIO_SPAWNER": "docker"})
    user = types.SimpleNamespace(name="a", url="/user/a/", id=1, settings={})
    spawner = BiblioDockerSpawner(config=c, user=user)
    folder.create_workspace(tmp_path / "ws", "a", "ws-x", entry_id=ENTRY, repo_root=REPO_ROOT)
    host = tmp_path / "ws" / "a" / "ws-x"
    for _ in range(2):  # a restart changes nothing more
        spawn.point_at_workspace(
            spawner, host, ENTRY, access_check=20,
            config_dir=docker_config.IMAGE_CONFIG_DIR / "espace",
            server_dir=PurePosixPath(docker_config.WORK_DIR),
        )  # fmt: skip
    assert spawner.notebook_dir == docker_config.WORK_DIR
    assert spawner.default_url == f"/lab/tree/notebooks/{ENTRY}.ipynb"
    assert spawner.environment["JUPYTER_CONFIG_PATH"] == (
        "/opt/biblio-ia/hub/jupyter/espace:/opt/biblio-ia/hub/jupyter"
    )
    assert spawner.environment["PYTHONPATH"] == docker_config.WORK_DIR
    assert spawner.args == ["--HubOAuth.cache_max_age=20"]
    assert spawner.stop_timeout == spawn.STOP_GRACE["stop_timeout"] <= 5
    spawner.workspace_folder = str(host)
    assert spawner.workspace_create_kwargs()["working_dir"] == "/home/jovyan"
    assert spawner.volumes == {str(host): {"bind": docker_config.WORK_DIR, "mode": "rw"}}
    spawner.workspace_user = "4321:4321"  # a hub neither root nor uid 1000: its own ids
    assert spawner.workspace_create_kwargs() == {"working_dir": "/tmp", "user": "4321:4321"}
    env = spawner.environment
    assert not [v for v in env.values() if str(tmp_path) in str(v)]  # no host path inside
    assert s.workspaces_dir == tmp_path / "state" / "espaces"


def test_a_workspace_folder_is_handed_to_the_image_user(tmp_path):
    folder.create_workspace(tmp_path, "a", "ws-x", repo_root=REPO_ROOT)
    ws = tmp_path / "a" / "ws-x"
    assert spawn.container_user(ws, euid=spawn.IMAGE_UID) is None  # the hub is that user
    assert spawn.container_user(ws, euid=4321) == f"4321:{os.getegid()}"
    if os.geteuid() != 0:
        return
    assert spawn.container_user(ws) is None
    owners = {(p.lstat().st_uid, p.lstat().st_gid) for p in (ws, *ws.rglob("*"))}
    assert owners == {(spawn.IMAGE_UID, spawn.IMAGE_GID)}
    assert ws.stat().st_mode & 0o777 == 0o700  # nobody else on the host
    assert folder.history(ws)[0]["auteur"] == "a"  # the hub (root) still reads it


def test_every_hub_managed_service_sets_its_cookies_samesite_lax():
    """The workspaces service, like the catalog and the reproduce service, gets the cookie
    options (``JUPYTERHUB_COOKIE_OPTIONS``) that HubOAuth reads for its own cookies."""
    import json

    from hub.catalog.config import catalog_service
    from hub.config.settings import Settings
    from hub.reproduce.config import reproduce_service

    settings = Settings.from_env({})
    for make in (wsconfig.workspaces_service, catalog_service, reproduce_service):
        env = make(settings)["environment"]
        assert json.loads(env["JUPYTERHUB_COOKIE_OPTIONS"]) == {"samesite": "Lax"}, make
        assert env["PYTHONPATH"] == str(REPO_ROOT)
