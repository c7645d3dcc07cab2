"""biblio-ia hub, in four rooms.

- ``hub.config``: what ``jupyterhub_config.py`` runs — ``configure(c)``, the settings (every
  ``BIBLIO_*`` variable), secrets, roles, authentication, demo accounts.
- ``hub.spawners``: how a demonstrator's server starts — local (fork server), docker,
  Kubernetes — with its seeding, readiness and launch URLs.
- ``hub.catalog``: the library catalog service.
- ``hub.runner``: the ``biblio`` command line, the notebook runner and the entry scaffold.

``hub.shared`` holds the few helpers they share; ``hub/templates`` (hub pages) and
``hub/jupyter`` (single-user server settings) are data.
"""
