"""Settings.from_env: defaults, every variable parsed, bad values refused in French; the
declarations are the only reader of BIBLIO_* variables and docs/configuration.md follows them."""

import re
from pathlib import Path

import pytest

from hub.config import settings as settings_module
from hub.config.settings import (
    ACCOUNTS,
    CULLER,
    DOC_COMMAND,
    HUB,
    SERVERS,
    VARIABLES,
    Settings,
    SettingsError,
)
from models.entries import REPO_ROOT


def test_defaults_bind_loopback_and_use_repo_state():
    s = Settings.from_env({})
    assert s.spawner == "local"
    assert (s.ip, s.hub_ip, s.port) == ("127.0.0.1", "127.0.0.1", 8000)
    assert s.state_dir == REPO_ROOT / "state"
    assert s.db_url == f"sqlite:///{REPO_ROOT / 'state' / 'jupyterhub.sqlite'}"
    assert s.demo is False and s.open_signup is False and s.forkserver is True
    assert s.singleuser_cmd.endswith("-m hub.spawners.singleuser")
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
        "BIBLIO_SUBDOMAIN_HOST": "https://biblio.exemple.fr:8443",
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
        "BIBLIO_POLL_INTERVAL": "3",
        "BIBLIO_KEEP_SERVERS": "oui",
        "BIBLIO_KERNEL_CULL_TIMEOUT": "300",
        "BIBLIO_SINGLEUSER_CMD": "/opt/venv/bin/jupyterhub-singleuser",
        "BIBLIO_FORKSERVER": "non",
        "BIBLIO_PROXY_CMD": "/usr/bin/chp",
        "BIBLIO_MEM_LIMIT": "1G",
        "BIBLIO_CPU_LIMIT": "0.5",
        "BIBLIO_IMAGE": "biblio:2",
        "BIBLIO_LOG_LEVEL": "debug",
        "BIBLIO_SERVICE_BIND": "0.0.0.0",
        "BIBLIO_AUTH": "Native",
    }
    hub_groups = (HUB, ACCOUNTS, SERVERS, CULLER)
    assert set(env) == {n for n, v in VARIABLES.items() if v.group in hub_groups}
    s = Settings.from_env(env)
    assert s.spawner == "docker" and s.ip == "0.0.0.0" and s.port == 9000
    assert (s.hub_ip, s.hub_port, s.proxy_api_port) == ("127.0.0.2", 9081, 9001)
    assert s.base_url == "/biblio/" and s.public_url == "http://0.0.0.0:9000/biblio/"
    assert s.subdomain_host == "https://biblio.exemple.fr:8443"
    assert s.state_dir == tmp_path / "st" and s.repo_root == tmp_path
    assert s.db_url == "postgresql://db/hub" and s.admin == "chef.admin" and s.auth == "native"
    assert s.demo and s.open_signup and s.cull_users and not s.forkserver
    assert (s.named_server_limit, s.cull_timeout, s.cull_every, s.cull_max_age) == (
        5,
        600,
        60,
        7200,
    )
    assert (s.start_timeout, s.http_timeout, s.poll_interval) == (120, 45, 3)
    assert s.keep_servers is True and s.kernel_cull_timeout == 300
    assert (
        s.singleuser_cmd == "/opt/venv/bin/jupyterhub-singleuser" and s.proxy_cmd == "/usr/bin/chp"
    )
    assert (s.mem_limit, s.cpu_limit, s.image, s.log_level) == ("1G", 0.5, "biblio:2", "DEBUG")
    assert s.service_bind == "0.0.0.0" and s.ignored == ()
    # the mode-specific defaults follow the shared values they default to
    assert (s.docker_image, s.k8s_image, s.docker_mem_limit) == ("biblio:2", "biblio:2", "1G")
    assert (s.docker_cpu_limit, s.docker_start_timeout, s.docker_http_timeout) == (0.5, 120, 45)
    assert s.catalog_import == tmp_path / "st" / "catalog" / "national.json"
    assert s.catalog_runs == tmp_path / "test-artifacts" / "runs"
    assert s.users_dir == tmp_path / "st" / "users"


def test_unknown_biblio_variables_are_listed_others_ignored():
    s = Settings.from_env({"HOME": "/root", "BIBLIO_X_EXTRA": "1", "BIBLIO_PORT": "8001"})
    assert s.ignored == ("BIBLIO_X_EXTRA",)
    assert Settings.from_env({"BIBLIO_PORT": "8001"}).ignored == ()


def test_empty_variable_means_its_default():
    s = Settings.from_env({"BIBLIO_PORT": " ", "BIBLIO_FORKSERVER": "", "BIBLIO_IMAGE": ""})
    assert (s.port, s.forkserver, s.image) == (8000, True, "biblio-ia-singleuser:latest")


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
        ("BIBLIO_PUE", "0.5", "≥ 1"),
        ("BIBLIO_TDP_PER_CORE_W", "douze", "un nombre est attendu"),
        ("BIBLIO_CATALOG_PORT", "0", "≥ 1"),
        ("BIBLIO_MEM_LIMIT", "deux gigas", "taille"),
        ("BIBLIO_IMAGE", "*", "jamais"),
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


def test_every_variable_is_declared_once_with_a_default_and_a_one_line_help():
    names = [spec.name for spec in settings_module.declared().values()]
    assert len(names) == len(set(names)) == len(VARIABLES)
    for spec in VARIABLES.values():
        assert re.fullmatch(r"BIBLIO_[A-Z0-9_]+", spec.name)
        assert spec.help.strip() and "\n" not in spec.help and spec.group in settings_module.GROUPS
        assert spec.default is not None or spec.derive is not None or spec.shown, spec.name
    defaults = Settings.from_env({})
    assert defaults.db_url.startswith("sqlite:///") and defaults.catalog_port is None


def test_no_other_module_reads_a_biblio_variable():
    """Settings is the one reader: no os.environ / getenv of a BIBLIO_* name elsewhere."""
    reader = re.compile(r"""(environ(\.get)?|getenv)\s*[\(\[]\s*["']BIBLIO_""")
    offenders = [
        str(path.relative_to(REPO_ROOT))
        for folder in ("hub", "models", "benchmarks", "tests/support")
        for path in sorted((REPO_ROOT / folder).rglob("*.py"))
        if path != Path(settings_module.__file__) and reader.search(path.read_text("utf-8"))
    ]
    assert offenders == []
    assert reader.search('os.environ.get("BIBLIO_PORT")')  # the pattern does find one


def test_configuration_page_is_generated_from_the_declarations():
    page = REPO_ROOT / "docs" / "configuration.md"
    text = page.read_text(encoding="utf-8") if page.is_file() else ""
    assert text == settings_module.markdown(), (
        f"docs/configuration.md is out of date: {DOC_COMMAND}"
    )
    for spec in VARIABLES.values():
        assert f"| `{spec.name}` |" in text
