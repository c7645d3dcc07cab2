"""URLs of the one-click demonstrators.

A demonstrator is the user's *named server* called after the ``entry_id``; its working
folder is ``<home>/<entry_id>/`` and JupyterLab opens ``<entry_id>/<entry_id>.ipynb`` in the
workspace named after the entry.
``launch_url`` is the link to put behind "Lancer le démonstrateur": a GET on
``/hub/spawn/<user>/<entry_id>`` starts the server (no options form is configured), and
``next`` sends the browser straight to the notebook once it is ready. ``reset=True`` adds the
``reset`` query argument: the working folder is moved to a timestamped backup and seeded
again (see ``hub.spawners.seed``); it applies when the server is stopped. Every function
refuses a malformed entry id with ``models.entries.UnknownEntryError`` (French message).
"""

from __future__ import annotations

from urllib.parse import quote, urlencode

from models.entries import check_entry_id


def _base(base_url: str) -> str:
    url = "/" + base_url.strip("/")
    return url if url == "/" else url + "/"


def notebook_path(entry_id: str) -> str:
    """Path of the entry's notebook relative to the server's root folder."""
    check_entry_id(entry_id)
    return f"{entry_id}/{entry_id}.ipynb"


def default_url(entry_id: str) -> str:
    """The single-user ``default_url`` of the entry's server: JupyterLab on the notebook.

    Each entry has its own JupyterLab workspace (named after it): the user's folder holds
    every entry they opened, and the shared ``default`` workspace would reopen the other
    entries' notebooks (and start their kernels) in this server.
    """
    return f"/lab/workspaces/{entry_id}/tree/{notebook_path(entry_id)}"


def server_url(base_url: str, user: str, entry_id: str) -> str:
    """``/user/<user>/<entry_id>/`` under ``base_url``."""
    check_entry_id(entry_id)
    return f"{_base(base_url)}user/{quote(user, safe='')}/{entry_id}/"


def notebook_url(base_url: str, user: str, entry_id: str) -> str:
    """Public path of the notebook opened in JupyterLab on the entry's server."""
    return server_url(base_url, user, entry_id).rstrip("/") + default_url(entry_id)


def launch_url(base_url: str, user: str, entry_id: str, *, reset: bool = False) -> str:
    """The one-click link: start (if needed) the entry's server, then open its notebook."""
    check_entry_id(entry_id)
    query = {"next": notebook_url(base_url, user, entry_id)}
    if reset:
        query["reset"] = "1"
    return f"{_base(base_url)}hub/spawn/{quote(user, safe='')}/{entry_id}?{urlencode(query)}"
