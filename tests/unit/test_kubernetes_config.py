"""Kubernetes mode: KubeSpawner traits, the Z2JH extraConfig, and the chart values file."""

import copy
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml
from traitlets.config import Config

from hub.config.settings import Settings, SettingsError
from hub.spawners import kubernetes_config as hubk8s
from models.entries import REPO_ROOT, entry_ids

VALUES = REPO_ROOT / "images" / "z2jh-values.yaml"
Z2JH = Path(__file__).resolve().parents[2] / ".." / "shared" / "z2jh"


def _configure(**env):
    env = {"BIBLIO_SPAWNER": "kubernetes", **env}
    c = Config()
    used = hubk8s.configure_kubernetes(c, Settings.from_env(env))
    return c, used


def test_kubespawner_named_by_string_with_the_project_image_and_command():
    c, used = _configure(BIBLIO_IMAGE="reg.example/biblio:1")
    assert c.JupyterHub.spawner_class == "kubespawner.KubeSpawner"
    k = c.KubeSpawner
    assert k.image == "reg.example/biblio:1" and used["image"] == "reg.example/biblio:1"
    assert k.image_pull_policy == "IfNotPresent"
    assert k.cmd == ["python", "-m", "hub.spawners.singleuser"] and k.args == []
    assert k.notebook_dir == "/home/jovyan/work"
    assert k.environment["BIBLIO_REPO_ROOT"] == "/opt/biblio-ia"


def test_k8s_image_overrides_and_star_is_refused():
    c, _ = _configure(BIBLIO_IMAGE="a:1", BIBLIO_K8S_IMAGE="b:2")
    assert c.KubeSpawner.image == "b:2"
    with pytest.raises(SettingsError, match="jamais"):
        _configure(BIBLIO_K8S_IMAGE="*")


def test_one_claim_per_user_and_entry_mounted_on_work_and_deleted_with_them():
    c, _ = _configure(BIBLIO_K8S_STORAGE="2Gi", BIBLIO_K8S_STORAGE_CLASS="ssd")
    k = c.KubeSpawner
    assert "{user_server}" in k.pvc_name_template
    assert k.storage_pvc_ensure is True and k.delete_pvc is True
    assert k.storage_capacity == "2Gi" and k.storage_class == "ssd"
    (volume,) = k.volumes
    assert volume["persistentVolumeClaim"]["claimName"] == "{pvc_name}"
    assert k.volume_mounts == [{"name": volume["name"], "mountPath": "/home/jovyan/work"}]


def test_limits_guarantees_and_unprivileged_user():
    c, _ = _configure(BIBLIO_MEM_LIMIT="3G", BIBLIO_CPU_LIMIT="1.5")
    k = c.KubeSpawner
    assert (k.mem_limit, k.cpu_limit, k.mem_guarantee, k.cpu_guarantee) == ("3G", 1.5, "512M", 0.2)
    assert k.uid == 1000 and k.fs_gid == 1000 and k.allow_privilege_escalation is False
    assert k.start_timeout >= 300


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("BIBLIO_K8S_PULL_POLICY", "sometimes"),
        ("BIBLIO_K8S_STORAGE", "beaucoup"),
        ("BIBLIO_K8S_MEM_GUARANTEE", "x"),
        ("BIBLIO_K8S_CPU_GUARANTEE", "-1"),
    ],
)
def test_bad_values_raise_french_errors(name, value):
    with pytest.raises(SettingsError, match=name):
        _configure(**{name: value})


def test_reset_token_reaches_the_container_environment():
    c, _ = _configure()
    call = c.KubeSpawner.environment["BIBLIO_RESET_TOKEN"]
    assert call(SimpleNamespace(user_options={"reset": "abc123"})) == "abc123"
    assert call(SimpleNamespace(user_options={})) == ""


def test_profile_per_entry_chosen_by_server_name():
    ids = entry_ids()
    if not ids:
        pytest.fail("aucune entrée : aucun notebooks/*.ipynb dans le dépôt")
    c, _ = _configure()
    for entry_id in ids:
        (profile,) = c.KubeSpawner.profile_list(SimpleNamespace(name=entry_id))
        assert profile["default"] is True
        env = profile["kubespawner_override"]["environment"]
        assert env["BIBLIO_ENTRY_ID"] == entry_id
        # the profile's environment replaces the spawner's: it keeps the shared variables
        assert (
            env["BIBLIO_KERNEL_CULL_TIMEOUT"]
            == c.KubeSpawner.environment["BIBLIO_KERNEL_CULL_TIMEOUT"]
        )
        assert env["BIBLIO_RESET_TOKEN"] is c.KubeSpawner.environment["BIBLIO_RESET_TOKEN"]
    assert c.KubeSpawner.profile_list(SimpleNamespace(name="")) == []
    assert c.KubeSpawner.profile_list(SimpleNamespace(name="inconnu")) == []


def _chart_like_config():
    """What the Z2JH chart's jupyterhub_config.py sets before hub.extraConfig runs."""
    c = Config()
    c.JupyterHub.ip = "10.0.0.5"
    c.JupyterHub.port = 8000
    c.JupyterHub.hub_ip = "0.0.0.0"
    c.JupyterHub.hub_connect_url = "http://hub:8081"
    c.JupyterHub.db_url = "postgresql+psycopg2://biblio@db/jupyterhub"
    c.JupyterHub.cleanup_servers = False
    c.ConfigurableHTTPProxy.api_url = "http://proxy-api:8001"
    c.ConfigurableHTTPProxy.should_start = False
    c.CryptKeeper.keys = [b"k" * 32]
    return c


def test_z2jh_extra_config_keeps_what_the_chart_owns(tmp_path):
    c = _chart_like_config()
    before = copy.deepcopy(c)
    settings = hubk8s.configure_z2jh(
        c, {"BIBLIO_STATE_DIR": str(tmp_path), "BIBLIO_CATALOG_PORT": "10101"}
    )
    assert settings.spawner == "kubernetes"
    for section, trait in [
        ("JupyterHub", "ip"),
        ("JupyterHub", "hub_ip"),
        ("JupyterHub", "hub_connect_url"),
        ("JupyterHub", "db_url"),
        ("JupyterHub", "cleanup_servers"),
        ("CryptKeeper", "keys"),
    ]:
        assert c[section][trait] == before[section][trait], (section, trait)
    assert dict(c.ConfigurableHTTPProxy) == dict(before.ConfigurableHTTPProxy)
    # biblio-ia's own settings that the chart cannot express are applied
    assert "bind_url" not in c.JupyterHub and "hub_bind_url" not in c.JupyterHub
    assert c.JupyterHub.spawner_class == "kubespawner.KubeSpawner"
    assert c.JupyterHub.authenticator_class == "hub.config.auth.BiblioAuthenticator"
    assert c.JupyterHub.allow_named_servers is True
    assert c.JupyterHub.load_roles and c.JupyterHub.custom_scopes
    urls = [s["url"] for s in c.JupyterHub.services if "url" in s]
    assert urls and all(u.startswith("http://hub:") for u in urls), urls
    # and those services listen on the pod's interfaces, where the proxy pod can reach them
    for service in c.JupyterHub.services:
        if "url" in service:
            assert service["environment"]["BIBLIO_SERVICE_BIND"] == "0.0.0.0"


def test_z2jh_refuses_another_spawner(tmp_path):
    with pytest.raises(SettingsError, match="kubernetes"):
        hubk8s.configure_z2jh(Config(), {"BIBLIO_SPAWNER": "docker"})


# --- the chart values file ---------------------------------------------------------------


def _merge(base, over):
    out = copy.deepcopy(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


@pytest.fixture(scope="module")
def chart():
    values, schema = Z2JH / "values.yaml", Z2JH / "values.schema.yaml"
    if not (values.is_file() and schema.is_file()):
        pytest.skip(f"chart 4.4.0 defaults/schema absent ({Z2JH})")
    return yaml.safe_load(values.read_text()), yaml.safe_load(schema.read_text())


def _errors(values, schema):
    import jsonschema

    return sorted(
        jsonschema.Draft7Validator(schema).iter_errors(values), key=lambda e: list(e.path)
    )


def test_values_merged_over_chart_defaults_validate_against_chart_schema(chart):
    defaults, schema = chart
    merged = _merge(defaults, yaml.safe_load(VALUES.read_text()))
    assert [(list(e.path), e.message) for e in _errors(merged, schema)] == []


def test_schema_check_catches_a_wrong_key(chart):
    """The validation above can fail: a misspelt key is reported."""
    defaults, schema = chart
    bad = _merge(defaults, yaml.safe_load(VALUES.read_text()))
    bad["singleuser"]["storage"]["dynamic"]["pvcNameTemplat"] = "x"
    assert _errors(bad, schema)


def test_values_use_same_image_command_storage_and_hub_package():
    values = yaml.safe_load(VALUES.read_text())
    single, hub = values["singleuser"], values["hub"]
    image = f"{single['image']['name']}:{single['image']['tag']}"
    assert hub["extraEnv"]["BIBLIO_IMAGE"] == image
    assert single["cmd"] == ["python", "-m", "hub.spawners.singleuser"]
    assert single["storage"]["homeMountPath"] == "/home/jovyan/work"
    assert single["storage"]["dynamic"]["pvcNameTemplate"] == "biblio-ia-{user_server}"
    assert "configure_z2jh(c)" in hub["extraConfig"]["biblio"]
    assert hub["allowNamedServers"] is True
    assert hub["db"]["type"] == "postgres" and "password" not in hub["db"]
    assert values["scheduling"]["userScheduler"]["enabled"] is True
    assert values["cull"]["enabled"] is False and "BIBLIO_CULL_TIMEOUT" in hub["extraEnv"]
    port = int(hub["extraEnv"]["BIBLIO_CATALOG_PORT"])
    assert port in hub["networkPolicy"]["allowedIngressPorts"]
    assert port in [p["port"] for p in hub["service"]["extraPorts"]]
