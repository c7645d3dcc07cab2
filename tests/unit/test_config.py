"""hub.config.configure.configure on a bare traitlets Config: one test per mode and setting."""

import json
import os
import stat
import subprocess
import sys
import types
from pathlib import Path

import pytest
from traitlets.config import Config

from hub.config import configure as hubconfig
from hub.config.settings import SettingsError
from hub.spawners.seed import parse_launch_options
from models.entries import REPO_ROOT


def _configure(tmp_path, **env):
    c = Config()
    env = {"BIBLIO_STATE_DIR": str(tmp_path / "state"), **env}
    settings = hubconfig.configure(c, env)
    return c, settings


def test_jupyterhub_config_file_only_calls_configure():
    text = (REPO_ROOT / "jupyterhub_config.py").read_text(encoding="utf-8")
    assert "configure(c)" in text and len(text.splitlines()) < 10
    assert "prepare_hub_process()" in text


def test_hub_process_exits_without_final_collections():
    code = (
        "import atexit, gc; from hub.config.process import prepare_hub_process; "
        "prepare_hub_process(); prepare_hub_process(); "
        "print(atexit._ncallbacks()); atexit._run_exitfuncs(); print(gc.get_freeze_count() > 0)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    before = subprocess.run(
        [
            sys.executable,
            "-c",
            "import atexit; import hub.config.process; print(atexit._ncallbacks())",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    registered, frozen = out.stdout.split()
    assert int(registered) == int(before.stdout) + 1  # registered once, however often called
    assert frozen == "True"


def test_sqlite_database_in_wal_mode_others_untouched(tmp_path):
    c, s = _configure(tmp_path)
    creator = c.JupyterHub.db_kwargs["creator"]
    conn = creator()
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
    finally:
        conn.close()
    assert (tmp_path / "state" / "jupyterhub.sqlite").exists()
    c, _ = _configure(tmp_path, BIBLIO_DB_URL="postgresql://db/hub")
    assert c.JupyterHub.db_kwargs == {}
    c, _ = _configure(tmp_path, BIBLIO_DB_URL="sqlite:///:memory:")
    assert c.JupyterHub.db_kwargs == {}


def test_servers_polled_and_stopped_with_the_hub_unless_kept(tmp_path):
    c, s = _configure(tmp_path)
    assert c.Spawner.poll_interval == 5 and c.JupyterHub.cleanup_servers is True
    (fork,) = [x for x in c.JupyterHub.services if x["name"] == hubconfig.FORKSERVER_SERVICE]
    assert fork["command"][-1] == "--stop-servers"
    assert c.BiblioLocalSpawner.forkserver_socket == fork["command"][-2]
    c, s = _configure(tmp_path, BIBLIO_POLL_INTERVAL="2", BIBLIO_KEEP_SERVERS="1")
    assert c.Spawner.poll_interval == 2 and c.JupyterHub.cleanup_servers is False
    (fork,) = [x for x in c.JupyterHub.services if x["name"] == hubconfig.FORKSERVER_SERVICE]
    assert fork["command"][-1] == "--leave-servers"


def test_containers_outlive_the_hub_by_default_in_docker_mode(tmp_path):
    """Stopping twenty containers takes the engine ~10 s: docker mode keeps them (the next
    hub takes them back, tests/docker/test_docker_reliability.py) unless told otherwise."""
    c, s = _configure(tmp_path, BIBLIO_SPAWNER="docker")
    assert s.keep_servers is True and c.JupyterHub.cleanup_servers is False
    c, s = _configure(tmp_path, BIBLIO_SPAWNER="docker", BIBLIO_KEEP_SERVERS="0")
    assert s.keep_servers is False and c.JupyterHub.cleanup_servers is True


def test_local_defaults_bind_loopback_sqlite_in_state(tmp_path):
    c, s = _configure(tmp_path)
    state = tmp_path / "state"
    assert c.JupyterHub.bind_url == "http://127.0.0.1:8000/"
    assert c.JupyterHub.hub_bind_url == "http://127.0.0.1:8081"
    assert c.ConfigurableHTTPProxy.api_url == "http://127.0.0.1:8001"
    assert c.Spawner.ip == "127.0.0.1"
    assert c.JupyterHub.db_url == f"sqlite:///{state / 'jupyterhub.sqlite'}"
    assert c.JupyterHub.spawner_class == "hub.spawners.local.BiblioLocalSpawner"
    assert c.SimpleLocalProcessSpawner.home_dir_template == str(state / "users" / "{username}")
    assert c.Spawner.notebook_dir == str(state / "users" / "{username}")
    assert (state / "users").is_dir()


def test_commands_are_absolute_paths(tmp_path):
    c, _ = _configure(tmp_path)
    assert Path(c.Spawner.cmd[0]).is_absolute() and Path(c.Spawner.cmd[0]).exists()
    assert c.Spawner.cmd[1:] == ["-m", "hub.spawners.singleuser"]
    proxy = Path(c.ConfigurableHTTPProxy.command[0])
    assert proxy.is_absolute() and proxy.name == "configurable-http-proxy"
    assert ("--allow-root" in c.Spawner.args) == (os.geteuid() == 0)


def test_commands_from_settings_are_split(tmp_path):
    c, _ = _configure(
        tmp_path,
        BIBLIO_SINGLEUSER_CMD="/opt/v/bin/python -m jupyterhub.singleuser",
        BIBLIO_PROXY_CMD="/usr/local/bin/chp --log-level warn",
    )
    assert c.Spawner.cmd == ["/opt/v/bin/python", "-m", "jupyterhub.singleuser"]
    assert c.ConfigurableHTTPProxy.command == ["/usr/local/bin/chp", "--log-level", "warn"]


def test_secrets_generated_0600_and_reused(tmp_path):
    c1, _ = _configure(tmp_path)
    secret_file = Path(c1.JupyterHub.cookie_secret_file)
    folder = secret_file.parent
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    files = sorted(p.name for p in folder.iterdir())
    assert files == ["crypt_key", "jupyterhub_cookie_secret", "proxy_auth_token"]
    for p in folder.iterdir():
        assert stat.S_IMODE(p.stat().st_mode) == 0o600
        assert len(bytes.fromhex(p.read_text().strip())) == 32
    token = c1.ConfigurableHTTPProxy.auth_token
    c2, _ = _configure(tmp_path)
    assert c2.ConfigurableHTTPProxy.auth_token == token
    assert c2.CryptKeeper["keys"] == c1.CryptKeeper["keys"]
    other, _ = _configure(tmp_path / "other")
    assert other.ConfigurableHTTPProxy.auth_token != token, "never a fixed default"


def test_loose_secret_file_is_tightened_and_garbage_refused(tmp_path):
    c, _ = _configure(tmp_path)
    secret_file = Path(c.JupyterHub.cookie_secret_file)
    os.chmod(secret_file, 0o644)
    _configure(tmp_path)
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    secret_file.write_text("pas un secret")
    from hub.config.settings import SettingsError

    with pytest.raises(SettingsError, match="supprimez-le"):
        _configure(tmp_path)


def test_named_servers_limited(tmp_path):
    c, s = _configure(tmp_path, BIBLIO_NAMED_SERVER_LIMIT="2")
    assert c.JupyterHub.allow_named_servers is True
    gate = c.JupyterHub.named_server_limit_per_user
    assert gate.limit == 2 and gate.repo_root == s.repo_root


@pytest.mark.parametrize(
    "name", ["pas_une_entree", "a" * 5000, "a/b", "canteen_attendance\x00", "Canteen_Attendance"]
)
def test_named_server_gate_refuses_names_that_are_no_entry(tmp_path, name):
    from tornado import web

    c, _ = _configure(tmp_path)
    gate = c.JupyterHub.named_server_limit_per_user
    handler = types.SimpleNamespace(path_args=["expert", name])
    with pytest.raises(web.HTTPError) as err:
        gate(handler)
    assert err.value.status_code == 404 and "Démonstrateur inconnu" in err.value.log_message
    assert len(err.value.log_message) < 300


def test_named_server_gate_gives_the_limit_for_entries_and_other_pages(tmp_path):
    c, s = _configure(tmp_path, BIBLIO_NAMED_SERVER_LIMIT="2")
    gate = c.JupyterHub.named_server_limit_per_user
    assert gate(types.SimpleNamespace(path_args=["expert", "canteen_attendance"])) == 2
    assert gate(types.SimpleNamespace(path_args=[])) == 2  # the home page asks too
    assert gate(types.SimpleNamespace(path_args=["expert"])) == 2


def test_spawner_hooks_and_timeouts(tmp_path):
    c, s = _configure(tmp_path, BIBLIO_START_TIMEOUT="90", BIBLIO_HTTP_TIMEOUT="20")
    assert (c.Spawner.start_timeout, c.Spawner.http_timeout) == (90, 20)
    assert c.Spawner.options_from_form is parse_launch_options
    hook = c.Spawner.pre_spawn_hook
    assert hook.keywords == {
        "users_dir": s.users_dir,
        "repo_root": s.repo_root,
        "workspaces_dir": s.workspaces_dir,
        "access_check": s.workspace_access_check,
    }
    assert c.Spawner.disable_user_config is True
    assert c.LocalProcessSpawner.term_timeout <= 5


def test_singleuser_environment_points_to_lab_config(tmp_path):
    c, s = _configure(tmp_path, BIBLIO_REPO_ROOT=str(tmp_path))
    env = c.Spawner.environment
    assert env["JUPYTER_CONFIG_PATH"] == str(hubconfig.SINGLEUSER_CONFIG_DIR)
    assert env["BIBLIO_REPO_ROOT"] == str(tmp_path)


def test_lab_settings_no_news_french_and_needed_extensions_on():
    folder = hubconfig.SINGLEUSER_CONFIG_DIR
    server = json.loads((folder / "jupyter_server_config.json").read_text())
    ext = server["ServerApp"]["jpserver_extensions"]
    assert ext["jupyterlab"] is True and ext["jupyter_server_terminals"] is True
    assert ext["jupyter_lsp"] is False and ext["notebook_shim"] is False
    assert server["LabApp"]["extension_manager"] == "readonly"
    overrides = json.loads((folder / "labconfig" / "default_setting_overrides.json").read_text())
    notif = overrides["@jupyterlab/apputils-extension:notification"]
    assert notif["fetchNews"] == "false" and notif["checkForUpdates"] is False
    assert overrides["@jupyterlab/translation-extension:plugin"]["locale"] == "fr_FR"
    assert overrides["@jupyterlab/notebook-extension:tracker"]["autoStartDefaultKernel"] is True


WORKSPACE_ONLY_LAB = (
    "@jupyter/collaboration-extension",
    "@jupyter/docprovider-extension",
    "@jupyterlab/git",
    "nbdime-jupyterlab",
)
WORKSPACE_ONLY_SERVER = ("jupyter_server_ydoc", "jupyter_server_fileid", "jupyterlab_git", "nbdime")


def test_lab_plugins_disabled_are_only_unused_ones():
    page = json.loads(
        (hubconfig.SINGLEUSER_CONFIG_DIR / "labconfig" / "page_config.json").read_text()
    )
    disabled = {name for name, off in page["disabledExtensions"].items() if off}
    assert disabled == {
        "@jupyterlab/lsp-extension",  # its server extension is not loaded
        "@jupyterlab/apputils-extension:announcements",  # news and update checks
        "@jupyterlab/extensionmanager-extension",  # read-only manager, no network here
        "@jupyterlab/pluginmanager-extension",
        *WORKSPACE_ONLY_LAB,  # demonstrators start as fast as before
    }
    workspace = json.loads(
        (hubconfig.SINGLEUSER_CONFIG_DIR / "espace" / "labconfig" / "page_config.json").read_text()
    )
    assert workspace["disabledExtensions"] == dict.fromkeys(WORKSPACE_ONLY_LAB, False)


def test_collaboration_and_git_server_extensions_only_on_workspaces():
    demo = json.loads((hubconfig.SINGLEUSER_CONFIG_DIR / "jupyter_server_config.json").read_text())
    ws = json.loads(
        (hubconfig.SINGLEUSER_CONFIG_DIR / "espace" / "jupyter_server_config.json").read_text()
    )
    demo_ext = demo["ServerApp"]["jpserver_extensions"]
    ws_ext = ws["ServerApp"]["jpserver_extensions"]
    for name in WORKSPACE_ONLY_SERVER:
        assert demo_ext[name] is False and ws_ext[name] is True, name
    assert ws_ext["hub.workspaces.extension"] is True
    assert "hub.workspaces.extension" not in demo_ext


def test_auth_native_with_admin_bootstrap(tmp_path):
    c, _ = _configure(tmp_path, BIBLIO_ADMIN="cheffe")
    assert c.JupyterHub.authenticator_class == "hub.config.auth.BiblioAuthenticator"
    assert c.BiblioAuthenticator.bootstrap_accounts == {"cheffe": "once"}
    assert c.NativeAuthenticator.open_signup is False
    assert c.NativeAuthenticator.minimum_password_length >= 10
    assert c.NativeAuthenticator.allowed_failed_logins > 0
    admin_role = next(r for r in c.JupyterHub.load_roles if r["name"] == "admin")
    assert admin_role["users"] == ["cheffe"]


def test_demo_mode_accounts_and_groups(tmp_path):
    c, _ = _configure(tmp_path, BIBLIO_DEMO="1")
    assert c.BiblioAuthenticator.bootstrap_accounts == {
        "admin": "always",
        "expert": "always",
        "experte": "always",
        "collectivite": "always",
    }
    assert c.JupyterHub.load_groups == {
        "experts": {"users": ["expert", "experte"]},
        "collectivites": {"users": ["collectivite"]},
        "admins": {"users": ["admin"]},
    }
    off, _ = _configure(tmp_path / "off")
    assert all(g["users"] == [] for g in off.JupyterHub.load_groups.values())


def test_open_signup_setting(tmp_path):
    c, _ = _configure(tmp_path, BIBLIO_OPEN_SIGNUP="1")
    assert c.NativeAuthenticator.open_signup is True


def test_culler_service_and_its_least_privilege_role(tmp_path):
    c, _ = _configure(
        tmp_path, BIBLIO_CULL_TIMEOUT="900", BIBLIO_CULL_EVERY="120", BIBLIO_CULL_MAX_AGE="0"
    )
    (service,) = [s for s in c.JupyterHub.services if s["name"] == hubconfig.CULLER_SERVICE]
    cmd = service["command"]
    assert cmd[1:3] == ["-m", "jupyterhub_idle_culler"]
    assert {"--timeout=900", "--cull-every=120", "--max-age=0"} <= set(cmd)
    assert "--cull-users" not in cmd and "api_token" not in service
    role = next(r for r in c.JupyterHub.load_roles if r.get("services") == [service["name"]])
    assert sorted(role["scopes"]) == sorted(
        ["list:users", "read:users:activity", "read:servers", "delete:servers"]
    )


def test_culling_users_needs_admin_users_scope(tmp_path):
    c, _ = _configure(tmp_path, BIBLIO_CULL_USERS="1")
    (service,) = [s for s in c.JupyterHub.services if s["name"] == hubconfig.CULLER_SERVICE]
    assert "--cull-users" in service["command"]
    assert "--cull-admin-users=false" in service["command"]
    role = next(r for r in c.JupyterHub.load_roles if r.get("services") == [service["name"]])
    assert "admin:users" in role["scopes"]


def test_base_url_and_ports(tmp_path):
    c, _ = _configure(tmp_path, BIBLIO_BASE_URL="/biblio/", BIBLIO_PORT="8443", BIBLIO_IP="0.0.0.0")
    assert c.JupyterHub.bind_url == "http://0.0.0.0:8443/biblio/"
    assert c.JupyterHub.hub_bind_url == "http://127.0.0.1:8081"


def test_entries_listed_for_templates(tmp_path):
    from models.entries import entry_ids

    c, s = _configure(tmp_path)
    assert c.JupyterHub.template_vars["biblio_entries"] == entry_ids(s.repo_root)


@pytest.mark.parametrize(
    ("mode", "module"),
    [("docker", "hub.spawners.docker_config"), ("kubernetes", "hub.spawners.kubernetes_config")],
)
def test_other_modes_delegate_to_their_module(tmp_path, mode, module):
    c, _ = _configure(tmp_path, BIBLIO_SPAWNER=mode)
    import importlib

    assert c.JupyterHub.spawner_class == importlib.import_module(module).SPAWNER_CLASS
    assert c.JupyterHub.spawner_class != "hub.spawners.local.BiblioLocalSpawner"
    assert not (tmp_path / "state" / "users").exists() or mode != "local"


def test_configure_reads_no_environment_at_import():
    code = (
        "import os; os.environ['BIBLIO_PORT']='not-a-port'; "
        "import hub.config.configure, hub.config.settings, hub.config.roles, "
        "hub.spawners.seed, hub.spawners.launch; print('ok')"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "ok"


def test_singleuser_entry_point_skips_the_slow_optional_import():
    code = (
        "import sys, hub.shared as s; s.block_slow_optional_imports(); "
        "import jsonschema._format; print(sys.modules.get('rfc3987_syntax'))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "None"


def test_every_log_level_is_accepted_by_jupyterhub(tmp_path):
    import logging

    from jupyterhub.app import JupyterHub
    from traitlets.config import Config

    from hub.config.configure import configure

    for name in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
        c = Config()
        configure(c, env={"BIBLIO_STATE_DIR": str(tmp_path / name), "BIBLIO_LOG_LEVEL": name})
        app = JupyterHub(config=c)
        assert app.log_level == getattr(logging, name)


@pytest.mark.parametrize("mode", ["docker", "kubernetes"])
def test_subdomains_isolate_servers_and_the_catalog(tmp_path, mode):
    c, s = _configure(
        tmp_path, BIBLIO_SPAWNER=mode, BIBLIO_SUBDOMAIN_HOST="https://Biblio.Exemple.fr/"
    )
    assert c.JupyterHub.subdomain_host == "https://biblio.exemple.fr"
    assert "subdomain_hook" not in c.JupyterHub  # JupyterHub 5's idna names, as catalog_url
    catalog = "https://catalog--service.biblio.exemple.fr/services/catalog/"
    assert c.JupyterHub.template_vars["biblio_catalog_url"] == catalog
    service = next(x for x in c.JupyterHub.services if x["name"] == "catalog")
    args = service["command"]
    assert args[args.index("--hub-origin") + 1] == "https://biblio.exemple.fr"
    anonymous = types.SimpleNamespace(current_user=None)
    assert c.JupyterHub.default_url(anonymous) == catalog


def test_one_origin_by_default_and_never_subdomains_in_local_mode(tmp_path):
    c, _ = _configure(tmp_path)
    assert "subdomain_host" not in c.JupyterHub
    assert c.JupyterHub.template_vars["biblio_catalog_url"] == "/services/catalog/"
    with pytest.raises(SettingsError, match="docker ou kubernetes"):
        _configure(tmp_path, BIBLIO_SUBDOMAIN_HOST="https://biblio.exemple.fr")


@pytest.mark.parametrize(
    "value", ["biblio.exemple.fr", "https://biblio.exemple.fr/chemin", "ftp://x.fr", "https://x"]
)
def test_subdomain_host_must_be_an_origin(tmp_path, value):
    with pytest.raises(SettingsError, match="origine sans chemin"):
        _configure(tmp_path, BIBLIO_SPAWNER="docker", BIBLIO_SUBDOMAIN_HOST=value)
