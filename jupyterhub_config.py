"""JupyterHub configuration of biblio-ia: everything is in ``hub.config`` (see README)."""

from hub.config import configure

c = get_config()  # noqa: F821 -- provided by JupyterHub when it loads this file
configure(c)
