"""The single-user servers' kernel culling follows BIBLIO_KERNEL_CULL_TIMEOUT
(hub/jupyter/jupyter_server_config.py, read by every server through JUPYTER_CONFIG_PATH)."""

import runpy

import pytest
from traitlets.config import Config

from hub.config.configure import SINGLEUSER_CONFIG_DIR, configure

CONFIG_FILE = SINGLEUSER_CONFIG_DIR / "jupyter_server_config.py"


def server_config(monkeypatch, value):
    if value is None:
        monkeypatch.delenv("BIBLIO_KERNEL_CULL_TIMEOUT", raising=False)
    else:
        monkeypatch.setenv("BIBLIO_KERNEL_CULL_TIMEOUT", value)
    c = Config()
    runpy.run_path(str(CONFIG_FILE), init_globals={"get_config": lambda: c})
    return c


@pytest.mark.parametrize(("value", "timeout", "interval"), [(None, 1200, 60), ("8", 8, 4)])
def test_idle_kernels_are_culled_after_the_setting(monkeypatch, value, timeout, interval):
    kernels = server_config(monkeypatch, value).MappingKernelManager
    assert (kernels.cull_idle_timeout, kernels.cull_interval) == (timeout, interval)
    assert kernels.cull_connected is False and kernels.cull_busy is False


def test_zero_never_culls(monkeypatch):
    assert "cull_idle_timeout" not in server_config(monkeypatch, "0").MappingKernelManager


def test_the_hub_passes_the_setting_to_local_servers(tmp_path):
    c = Config()
    configure(c, {"BIBLIO_STATE_DIR": str(tmp_path), "BIBLIO_KERNEL_CULL_TIMEOUT": "90"})
    env = c.Spawner.environment
    assert env["BIBLIO_KERNEL_CULL_TIMEOUT"] == "90"
    assert env["JUPYTER_CONFIG_PATH"] == str(SINGLEUSER_CONFIG_DIR)
