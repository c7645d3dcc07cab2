"""hub.config.configure on a bare traitlets Config: one test per mode and setting."""

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from traitlets.config import Config

from hub import config as hubconfig
from hub.seed import parse_launch_options
from hub.settings import REPO_ROOT


def _configure(tmp_path, **env):
    c = Config()
    env = {"BIBLIO_STATE_DIR": str(tmp_path / "state"), **env}
    settings = hubconfig.configure(c, env)
    return c, settings


def test_jupyterhub_config_file_only_calls_configure():
    text = (REPO_ROOT / "jupyterhub_config.py").read_text(encoding="utf-8")
    assert "configure(c)" in text and len(text.splitlines()) < 10


def test_local_defaults_bind_loopback_sqlite_in_state(tmp_path):
    c, s = _configure(tmp_path)
    state = tmp_path / "state"
    assert c.JupyterHub.bind_url == "http://127.0.0.1:8000/"
    assert c.JupyterHub.hub_bind_url == "http://127.0.0.1:8081"
    assert c.ConfigurableHTTPProxy.api_url == "http://127.0.0.1:8001"
    assert c.Spawner.ip == "127.0.0.1"
    assert c.JupyterHub.db_url == f"sqlite:///{state / 'jupyterhub.sqlite'}"
    assert c.JupyterHub.spawner_class == "hub.spawner.BiblioLocalSpawner"
    assert c.SimpleLocalProcessSpawner.home_dir_template == str(state / "users" / "{username}")
    assert c.Spawner.notebook_dir == str(state / "users" / "{username}")
    assert (state / "users").is_dir()


def test_commands_are_absolute_paths(tmp_path):
    c, _ = _configure(tmp_path)
    assert Path(c.Spawner.cmd[0]).is_absolute() and Path(c.Spawner.cmd[0]).exists()
    assert c.Spawner.cmd[1:] == ["-m", "hub.singleuser"]
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
    from hub.settings import SettingsError

    with pytest.raises(SettingsError, match="supprimez-le"):
        _configure(tmp_path)


def test_named_servers_limited(tmp_path):
    c, _ = _configure(tmp_path, BIBLIO_NAMED_SERVER_LIMIT="2")
    assert c.JupyterHub.allow_named_servers is True
    assert c.JupyterHub.named_server_limit_per_user == 2


def test_spawner_hooks_and_timeouts(tmp_path):
    c, s = _configure(tmp_path, BIBLIO_START_TIMEOUT="90", BIBLIO_HTTP_TIMEOUT="20")
    assert (c.Spawner.start_timeout, c.Spawner.http_timeout) == (90, 20)
    assert c.Spawner.options_from_form is parse_launch_options
    hook = c.Spawner.pre_spawn_hook
    assert hook.keywords == {"users_dir": s.users_dir, "repo_root": s.repo_root}
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
    }


def test_auth_native_with_admin_bootstrap(tmp_path):
    c, _ = _configure(tmp_path, BIBLIO_ADMIN="cheffe")
    assert c.JupyterHub.authenticator_class == "hub.auth.BiblioAuthenticator"
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
        "collectivite": "always",
    }
    assert c.JupyterHub.load_groups == {
        "experts": {"users": ["expert"]},
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
    from models.contract import entry_ids

    c, s = _configure(tmp_path)
    assert c.JupyterHub.template_vars["biblio_entries"] == entry_ids(s.repo_root)


@pytest.mark.parametrize(
    ("mode", "module"), [("docker", "hub.docker"), ("kubernetes", "hub.kubernetes")]
)
def test_other_modes_delegate_to_their_module(tmp_path, mode, module):
    try:
        __import__(module)
    except ModuleNotFoundError as error:
        if error.name != module:
            raise
        pytest.skip(f"{module} is not written yet (issue 8)")
    c, _ = _configure(tmp_path, BIBLIO_SPAWNER=mode)
    assert c.JupyterHub.spawner_class != "hub.spawner.BiblioLocalSpawner"
    assert not (tmp_path / "state" / "users").exists() or mode != "local"


def test_configure_reads_no_environment_at_import():
    code = (
        "import os; os.environ['BIBLIO_PORT']='not-a-port'; "
        "import hub.config, hub.settings, hub.seed, hub.roles, hub.launch; print('ok')"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "ok"


def test_singleuser_entry_point_skips_the_slow_optional_import():
    code = (
        "import sys, hub.singleuser as s; s.block_slow_optional_imports(); "
        "import jsonschema._format; print(sys.modules.get('rfc3987_syntax'))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "None"


def test_every_log_level_is_accepted_by_jupyterhub(tmp_path):
    import logging

    from jupyterhub.app import JupyterHub
    from traitlets.config import Config

    from hub.config import configure

    for name in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
        c = Config()
        configure(c, env={"BIBLIO_STATE_DIR": str(tmp_path / name), "BIBLIO_LOG_LEVEL": name})
        app = JupyterHub(config=c)
        assert app.log_level == getattr(logging, name)
