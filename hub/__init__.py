"""biblio-ia hub: JupyterHub configuration, services and command line."""
