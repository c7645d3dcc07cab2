"""The library catalog: national-model records in three access tiers, and its hub service.

- ``hub.catalog.national``: the national data model (field names, French labels, tiers).
- ``hub.catalog.tiers``: the three tiers and how a token's scopes map to one.
- ``hub.catalog.records``: our own entries' records (``hub/catalog/entries/<id>.yaml``).
- ``hub.catalog.importer``: import of a national CSV export, validated and normalised.
- ``hub.catalog.store``: the catalog in memory, search, filters, and tier-filtered views.
- ``hub.catalog.service``: the JupyterHub service (tornado, HubOAuth), pages and JSON API.
- ``hub.catalog.config``: its ``c.JupyterHub.services`` entry and roles.
"""
