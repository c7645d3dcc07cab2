"""Settings.from_env: defaults, every variable parsed, bad values refused in French."""

from pathlib import Path

import pytest

from hub.settings import REPO_ROOT, VARIABLES, Settings, SettingsError


def test_defaults_bind_loopback_and_use_repo_state():
    s = Settings.from_env({})
    assert s.spawner == "local"
    assert (s.ip, s.hub_ip, s.port) == ("127.0.0.1", "127.0.0.1", 8000)
    assert s.state_dir == REPO_ROOT / "state"
    assert s.db_url == f"sqlite:///{REPO_ROOT / 'state' / 'jupyterhub.sqlite'}"
    assert s.demo is False and s.open_signup is False and s.forkserver is True
    assert s.singleuser_cmd.endswith("-m hub.singleuser")
    assert Path(s.singleuser_cmd.split()[0]).is_absolute()
    assert Path(s.proxy_cmd).is_absolute()
    assert s.public_url == "http://127.0.0.1:8000/"


def test_every_variable_is_read(tmp_path):
    env = {
        "BIBLIO_SPAWNER": "Docker",
        "BIBLIO_IP": "0.0.0.0",
        "BIBLIO_PORT": "9000",
        "BIBLIO_HUB_IP": "127.0.0.2",
        "BIBLIO_HUB_PORT": "9081",
        "BIBLIO_PROXY_API_PORT": "9001",
        "BIBLIO_BASE_URL": "biblio",
        "BIBLIO_STATE_DIR": str(tmp_path / "st"),
        "BIBLIO_REPO_ROOT": str(tmp_path),
        "BIBLIO_DB_URL": "postgresql://db/hub",
        "BIBLIO_ADMIN": "chef.admin",
        "BIBLIO_DEMO": "oui",
        "BIBLIO_OPEN_SIGNUP": "true",
        "BIBLIO_NAMED_SERVER_LIMIT": "5",
        "BIBLIO_CULL_TIMEOUT": "600",
        "BIBLIO_CULL_EVERY": "60",
        "BIBLIO_CULL_MAX_AGE": "7200",
        "BIBLIO_CULL_USERS": "1",
        "BIBLIO_START_TIMEOUT": "120",
        "BIBLIO_HTTP_TIMEOUT": "45",
        "BIBLIO_SINGLEUSER_CMD": "/opt/venv/bin/jupyterhub-singleuser",
        "BIBLIO_FORKSERVER": "non",
        "BIBLIO_PROXY_CMD": "/usr/bin/chp",
        "BIBLIO_MEM_LIMIT": "1G",
        "BIBLIO_CPU_LIMIT": "0.5",
        "BIBLIO_IMAGE": "biblio:2",
        "BIBLIO_LOG_LEVEL": "debug",
    }
    assert set(env) == set(VARIABLES), "the README table and this test list every variable"
    s = Settings.from_env(env)
    assert s.spawner == "docker" and s.ip == "0.0.0.0" and s.port == 9000
    assert (s.hub_ip, s.hub_port, s.proxy_api_port) == ("127.0.0.2", 9081, 9001)
    assert s.base_url == "/biblio/" and s.public_url == "http://0.0.0.0:9000/biblio/"
    assert s.state_dir == tmp_path / "st" and s.repo_root == tmp_path
    assert s.db_url == "postgresql://db/hub" and s.admin == "chef.admin"
    assert s.demo and s.open_signup and s.cull_users and not s.forkserver
    assert (s.named_server_limit, s.cull_timeout, s.cull_every, s.cull_max_age) == (
        5,
        600,
        60,
        7200,
    )
    assert (s.start_timeout, s.http_timeout) == (120, 45)
    assert (
        s.singleuser_cmd == "/opt/venv/bin/jupyterhub-singleuser" and s.proxy_cmd == "/usr/bin/chp"
    )
    assert (s.mem_limit, s.cpu_limit, s.image, s.log_level) == ("1G", 0.5, "biblio:2", "DEBUG")
    assert s.env["BIBLIO_IMAGE"] == "biblio:2"
    assert s.users_dir == tmp_path / "st" / "users"


def test_unrelated_variables_are_not_kept():
    s = Settings.from_env({"HOME": "/root", "BIBLIO_X_EXTRA": "1"})
    assert dict(s.env) == {"BIBLIO_X_EXTRA": "1"}


@pytest.mark.parametrize(
    ("name", "value", "needle"),
    [
        ("BIBLIO_SPAWNER", "podman", "valeurs admises"),
        ("BIBLIO_PORT", "quatre", "un nombre est attendu"),
        ("BIBLIO_PORT", "70000", "entre 1 et 65535"),
        ("BIBLIO_NAMED_SERVER_LIMIT", "0", "≥ 1"),
        ("BIBLIO_CULL_TIMEOUT", "1.5", "entier"),
        ("BIBLIO_DEMO", "peut-être", "oui/non"),
        ("BIBLIO_ADMIN", "ad min/../", "lettres"),
        ("BIBLIO_LOG_LEVEL", "loud", "DEBUG"),
        ("BIBLIO_CPU_LIMIT", "nan", "nombre"),
    ],
)
def test_bad_values_are_refused_in_french(name, value, needle):
    with pytest.raises(SettingsError) as info:
        Settings.from_env({name: value})
    assert name in str(info.value) and needle in str(info.value)


def test_settings_are_frozen_and_replace_copies():
    s = Settings.from_env({})
    with pytest.raises(AttributeError):
        s.port = 1  # type: ignore[misc]
    t = s.replace(port=8100)
    assert (s.port, t.port) == (8000, 8100)


def test_reading_settings_does_not_touch_the_environment(monkeypatch):
    monkeypatch.setenv("BIBLIO_PORT", "8123")
    assert Settings.from_env({}).port == 8000
    assert Settings.from_env().port == 8123
