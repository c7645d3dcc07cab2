"""JupyterHub configuration of biblio-ia: see ``hub.config`` and docs/configuration.md."""

from hub.config.configure import configure
from hub.config.process import prepare_hub_process

c = get_config()  # noqa: F821 -- provided by JupyterHub when it loads this file
configure(c)
prepare_hub_process()
