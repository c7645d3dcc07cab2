"""Single-user server settings that follow the hub's settings (beside the static
``jupyter_server_config.json``): idle kernels are stopped after
``BIBLIO_KERNEL_CULL_TIMEOUT`` seconds without activity and without an open tab, so that
an idle demonstrator holds the server's memory only (docs/performance.md). The server
itself stays up until the hub's idle culler stops it.
"""

from hub.config.settings import Settings

c = get_config()  # noqa: F821
timeout = Settings.from_env().kernel_cull_timeout
if timeout:
    c.MappingKernelManager.cull_idle_timeout = timeout
    c.MappingKernelManager.cull_interval = max(1, min(60, timeout // 2))
    c.MappingKernelManager.cull_connected = False
    c.MappingKernelManager.cull_busy = False
