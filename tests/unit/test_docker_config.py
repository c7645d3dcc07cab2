"""Docker mode: configure_docker on a bare Config, and the spawner's pure parts."""

import asyncio
import socket
from types import SimpleNamespace

import pytest
from traitlets.config import Config

from hub.config.settings import Settings, SettingsError
from hub.shared import free_port
from hub.spawners import docker_config as hubdocker
from hub.spawners.docker_spawner import (
    LABEL_ENTRY,
    LABEL_USER,
    BiblioDockerSpawner,
    object_labels,
    volume_name,
)
from hub.spawners.launch import default_url
from models.entries import REPO_ROOT, entry_ids


def _configure(**env):
    env = {"BIBLIO_SPAWNER": "docker", **env}
    settings = Settings.from_env(env)
    c = Config()
    d = hubdocker.configure_docker(c, settings)
    return c, d


def test_spawner_class_image_and_allowed_images_never_star():
    c, d = _configure(BIBLIO_IMAGE="biblio-ia-singleuser:1.2")
    assert c.JupyterHub.spawner_class == "hub.spawners.docker_spawner.BiblioDockerSpawner"
    sp = c.BiblioDockerSpawner
    assert sp.image == "biblio-ia-singleuser:1.2"
    assert sp.allowed_images == ["biblio-ia-singleuser:1.2"]
    assert d["allowed_images"] == ["biblio-ia-singleuser:1.2"]


def test_docker_image_overrides_shared_image_and_extra_allowed_are_listed():
    c, _ = _configure(
        BIBLIO_IMAGE="a:1",
        BIBLIO_DOCKER_IMAGE="b:2",
        BIBLIO_DOCKER_ALLOWED_IMAGES="c:3, b:2 ,d:4",
    )
    assert c.BiblioDockerSpawner.image == "b:2"
    assert c.BiblioDockerSpawner.allowed_images == ["b:2", "c:3", "d:4"]


@pytest.mark.parametrize(
    "env",
    [
        {"BIBLIO_DOCKER_ALLOWED_IMAGES": "*"},
        {"BIBLIO_DOCKER_ALLOWED_IMAGES": "a:1,*"},
        {"BIBLIO_DOCKER_IMAGE": "*"},
    ],
)
def test_star_image_is_refused_in_french(env):
    with pytest.raises(SettingsError, match="jamais « \\* »"):
        _configure(**env)


def test_registry_less_defaults_remove_limits_timeouts():
    c, _ = _configure(BIBLIO_MEM_LIMIT="1G", BIBLIO_CPU_LIMIT="0.5", BIBLIO_START_TIMEOUT="90")
    sp = c.BiblioDockerSpawner
    assert sp.pull_policy == "never"
    assert sp.remove is True
    assert sp.mem_limit == "1G" and sp.cpu_limit == 0.5
    assert sp.start_timeout == 90 and sp.http_timeout == 30
    assert sp.extra_host_config["cap_drop"] == ["ALL"]
    assert "no-new-privileges" in sp.extra_host_config["security_opt"]
    assert sp.extra_host_config["pids_limit"] == 512


def test_docker_specific_limits_override_shared_ones():
    c, _ = _configure(
        BIBLIO_MEM_LIMIT="1G",
        BIBLIO_DOCKER_MEM_LIMIT="512m",
        BIBLIO_DOCKER_CPU_LIMIT="2",
        BIBLIO_DOCKER_PIDS_LIMIT="64",
        BIBLIO_DOCKER_PULL_POLICY="IfNotPresent",
        BIBLIO_DOCKER_START_TIMEOUT="120",
        BIBLIO_DOCKER_HTTP_TIMEOUT="45",
    )
    sp = c.BiblioDockerSpawner
    assert sp.mem_limit == "512M" and sp.cpu_limit == 2.0
    assert sp.extra_host_config["pids_limit"] == 64
    assert sp.pull_policy == "ifnotpresent"
    assert (sp.start_timeout, sp.http_timeout) == (120, 45)


@pytest.mark.parametrize(
    ("name", "value", "words"),
    [
        ("BIBLIO_DOCKER_MEM_LIMIT", "beaucoup", "taille"),
        ("BIBLIO_DOCKER_CPU_LIMIT", "0", "strictement positif"),
        ("BIBLIO_DOCKER_PIDS_LIMIT", "1.5", "entier"),
        ("BIBLIO_DOCKER_PULL_POLICY", "sometimes", "valeurs admises"),
        ("BIBLIO_DOCKER_NETWORK", "bridge", "ni « bridge »"),
        ("BIBLIO_DOCKER_NETWORK", "mon réseau", "réseau"),
        ("BIBLIO_DOCKER_VOLUME_PREFIX", "a--b", "pas « -- »"),
    ],
)
def test_bad_values_raise_french_errors_naming_the_variable(name, value, words):
    with pytest.raises(SettingsError) as info:
        _configure(**{name: value})
    assert name in str(info.value) and words in str(info.value)


def test_host_network_is_the_default_and_reports_loopback():
    c, d = _configure()
    sp = c.BiblioDockerSpawner
    assert d["network"] == "host" and sp.network_name == "host"
    assert sp.host_ip_for_hub == "127.0.0.1"
    assert "hub_connect_ip" not in c.JupyterHub


def test_named_network_needs_the_hub_address_and_uses_internal_ips():
    with pytest.raises(SettingsError, match="BIBLIO_DOCKER_HUB_CONNECT_IP"):
        _configure(BIBLIO_DOCKER_NETWORK="biblio-net")
    c, _ = _configure(BIBLIO_DOCKER_NETWORK="biblio-net", BIBLIO_DOCKER_HUB_CONNECT_IP="hub")
    assert c.BiblioDockerSpawner.network_name == "biblio-net"
    assert c.BiblioDockerSpawner.use_internal_ip is True
    assert c.JupyterHub.hub_connect_ip == "hub"


def test_container_paths_are_the_image_ones_never_the_hosts():
    c, _ = _configure()
    sp = c.BiblioDockerSpawner
    assert sp.cmd == ["python", "-m", "hub.spawners.singleuser"] and sp.args == []
    assert sp.notebook_dir == sp.work_dir == "/home/jovyan/work"
    assert sp.environment["BIBLIO_REPO_ROOT"] == "/opt/biblio-ia"
    assert sp.environment["JUPYTER_CONFIG_PATH"] == "/opt/biblio-ia/hub/jupyter"
    container_side = {k: v for k, v in sp.items() if k != "pre_spawn_hook"}  # hook runs in hub
    assert str(REPO_ROOT) not in repr(container_side)


def test_kernel_cull_timeout_reaches_every_container():
    c, _ = _configure(BIBLIO_KERNEL_CULL_TIMEOUT="321")
    assert c.BiblioDockerSpawner.environment["BIBLIO_KERNEL_CULL_TIMEOUT"] == "321"


def test_docker_calls_run_side_by_side_in_one_shared_pool():
    c, _ = _configure(BIBLIO_DOCKER_API_THREADS="5")
    assert c.BiblioDockerSpawner.api_threads == 5

    class Probe(BiblioDockerSpawner):
        _executor = None

    one = Probe(config=c, user=SimpleNamespace(name="a", url="/user/a/", id=1))
    two = Probe(config=c, user=SimpleNamespace(name="b", url="/user/b/", id=2))
    try:
        assert one.executor is two.executor
        assert one.executor._max_workers == 5
    finally:
        one.executor.shutdown()


def test_spawner_section_wins_over_local_values_on_spawner():
    """hub.config.configure sets host paths on c.Spawner; the docker section must override them."""
    c, _ = _configure()
    c.Spawner.cmd = ["/host/venv/bin/python", "-m", "hub.spawners.singleuser"]
    c.Spawner.args = ["--allow-root"]
    c.Spawner.environment = {"BIBLIO_REPO_ROOT": "/host/repo"}
    user = SimpleNamespace(name="alice", url="/user/alice/", id=1)
    spawner = BiblioDockerSpawner(config=c, user=user)
    assert spawner.cmd == ["python", "-m", "hub.spawners.singleuser"]
    assert spawner.args == []
    assert spawner.environment["BIBLIO_REPO_ROOT"] == "/opt/biblio-ia"
    assert spawner.mem_limit == 2 * 1024**3
    assert spawner.allowed_images == {"biblio-ia-singleuser:latest": "biblio-ia-singleuser:latest"}
    assert spawner.remove is True and spawner.pull_policy == "never"


def test_pre_spawn_hook_refuses_unknown_entry_with_french_404():
    from tornado import web

    c, _ = _configure()
    hook = c.BiblioDockerSpawner.pre_spawn_hook
    spawner = SimpleNamespace(name="pas_une_entree", default_url="/lab")
    with pytest.raises(web.HTTPError) as info:
        asyncio.run(hook(spawner))
    assert info.value.status_code == 404 and "inconnu" in info.value.log_message
    spawner = SimpleNamespace(name="", default_url="/lab")
    asyncio.run(hook(spawner))  # the default server is left alone
    assert spawner.default_url == "/lab"


def test_pre_spawn_hook_opens_each_entrys_notebook():
    ids = entry_ids()
    if not ids:
        pytest.fail("aucune entrée : aucun notebooks/*.ipynb dans le dépôt")
    c, _ = _configure()
    for entry_id in ids:
        spawner = SimpleNamespace(name=entry_id, default_url="/lab")
        asyncio.run(c.BiblioDockerSpawner.pre_spawn_hook(spawner))
        assert spawner.default_url == default_url(entry_id)
        assert spawner.default_url.startswith("/lab/")
        assert spawner.default_url.endswith(f"/tree/{entry_id}/{entry_id}.ipynb")


def test_volume_names_are_one_to_one():
    esc = BiblioDockerSpawner._escape  # DockerSpawner's default (safe) escaping
    names = {
        volume_name("biblio-ia", esc(user), server)
        for user, server in [
            ("alice", "canteen_attendance"),
            ("alice", "air_quality"),
            ("alice", ""),
            ("alice-air", "quality"),
            ("Alice", "canteen_attendance"),
            ("alice--canteen", "attendance"),
            ("bob", "canteen_attendance"),
        ]
    }
    assert len(names) == 7
    assert volume_name("biblio-ia", "alice", "air_quality") == "biblio-ia-alice--air_quality"
    assert volume_name("biblio-ia", "alice", "") == "biblio-ia-alice"


def test_labels_carry_raw_user_and_entry():
    labels = object_labels("Élodie.Martin", "air_quality")
    assert labels[LABEL_USER] == "Élodie.Martin" and labels[LABEL_ENTRY] == "air_quality"


def test_free_port_is_bindable_on_loopback():
    port = free_port()
    assert 1024 <= port <= 65535
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))


def test_every_docker_variable_is_declared_and_used():
    import inspect
    import re

    from hub.config.settings import DOCKER, declared

    fields = {name for name, spec in declared().items() if spec.group == DOCKER}
    assert {declared()[name].name for name in fields} == {
        f"BIBLIO_{name.upper()}" for name in fields
    }
    used = set(re.findall(r"\bs\.(docker_[a-z_]+)", inspect.getsource(hubdocker)))
    assert used == fields
