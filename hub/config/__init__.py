"""The hub's configuration room: what ``jupyterhub_config.py`` runs.

- ``hub.config.configure``: ``configure(c)`` sets every JupyterHub trait (and nothing else).
- ``hub.config.process``: ``prepare_hub_process()``, the hub process's fast exit (not a trait).
- ``hub.config.database``: the SQLite database tuned for bursts (``db_kwargs``).
- ``hub.config.settings``: ``Settings``, the one home of every ``BIBLIO_*`` variable.
- ``hub.config.secrets``: the hub's secrets, generated on first start under the state folder.
- ``hub.config.roles``: tiers as groups, custom scopes and roles.
- ``hub.config.auth``: NativeAuthenticator with the admin and demo accounts provisioned.
- ``hub.config.demo``: the demo accounts (``BIBLIO_DEMO=1``).
- ``hub.config.proconnect`` and ``hub.config.proconnect_auth``: ``BIBLIO_AUTH=proconnect``,
  login with ProConnect (docs/proconnect.md).
"""
