"""Names of workspaces: the server name ``ws-<slug>`` and the slug made from a French title.

Entry ids (``models.entries``) never contain ``-``: a workspace server name can never be
mistaken for a demonstrator's.
"""

from __future__ import annotations

import re
import unicodedata

from models.errors import BiblioError

PREFIX = "ws-"
SLUG_MAX = 40
_SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$")


class WorkspaceError(BiblioError):
    """A workspace request that cannot be served (French message)."""


def slugify(title: str) -> str:
    """``"Cantines de l'Ouest"`` -> ``"cantines-de-l-ouest"`` (ASCII, at most ``SLUG_MAX``)."""
    text = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[:SLUG_MAX].rstrip("-")


def is_workspace(server_name: str) -> bool:
    """True for a workspace server name (``ws-<slug>``)."""
    return server_name.startswith(PREFIX) and bool(_SLUG_RE.match(server_name[len(PREFIX) :]))


def server_name(title: str) -> str:
    """The server name of a new workspace titled ``title``; a French error if unusable."""
    slug = slugify(title)
    if not slug:
        raise WorkspaceError(
            "Nom d'espace inutilisable : donnez au moins une lettre ou un chiffre."
        )
    return PREFIX + slug


def check_server_name(name: str) -> str:
    """``name`` if it names a workspace server, else a French error."""
    if not is_workspace(name):
        raise WorkspaceError(f"« {name} » n'est pas un espace de travail commun.")
    return name
