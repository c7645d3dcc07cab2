"""Joint development workspaces ("espaces de travail communs"), see docs/workspaces.md.

A workspace is a named server ``ws-<slug>`` of its creator, with its own folder (a git
repository) under ``<state>/espaces/<owner>/``. Rooms: ``names`` (server names), ``folder``
(creating the folder and its history), ``spawn`` (the hub side: preparing a workspace server),
``extension`` (the Jupyter Server side: access re-checks, commit authors), ``service`` (the
French pages, a hub service) and ``config`` (what the hub configuration adds).
"""
