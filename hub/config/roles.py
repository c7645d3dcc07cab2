"""RBAC of the hub: tiers as groups, custom scopes, and the roles that tie them.

Tiers: ``collectivites`` see the restricted catalog fields
(``custom:biblio:restreint``); ``experts`` also see the expert part and may start their own
demonstrators (``custom:biblio:expert`` + ``servers!user``) and create joint workspaces
(``custom:biblio:espaces``); ``admins`` are JupyterHub
admins with the expert scope. Every other signed-in user keeps read access to their own
account and tokens but gets **no** server permission, not even on themselves.

Services (the idle culler) get least-privilege roles (see ``culler_role``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

GROUP_EXPERTS = "experts"
GROUP_COLLECTIVITES = "collectivites"
GROUP_ADMINS = "admins"
GROUPS = (GROUP_EXPERTS, GROUP_COLLECTIVITES, GROUP_ADMINS)

SCOPE_RESTREINT = "custom:biblio:restreint"
SCOPE_EXPERT = "custom:biblio:expert"
# Create joint development workspaces and manage their members (hub.workspaces).
SCOPE_WORKSPACES = "custom:biblio:espaces"
# "Essayer sur mes données" (hub.reproduce): run a reference model on one's own file.
SCOPE_REPRODUIRE = "custom:biblio:reproduire"

CUSTOM_SCOPES: dict[str, dict[str, Any]] = {
    SCOPE_RESTREINT: {
        "description": "Voir les champs restreints des fiches du catalogue.",
    },
    SCOPE_EXPERT: {
        "description": "Voir la partie experte des entrées et lancer leurs démonstrateurs.",
        "subscopes": [SCOPE_RESTREINT],
    },
    SCOPE_WORKSPACES: {
        "description": "Créer des espaces de travail communs et en gérer les membres.",
    },
    SCOPE_REPRODUIRE: {
        "description": "Essayer les modèles de référence sur ses propres données (analyses).",
    },
}

# The default 'user' role is 'self', which includes servers!user: replaced by this list.
USER_SCOPES = [
    "read:users!user",
    "read:users:name!user",
    "read:users:groups!user",
    "read:users:activity!user",
    "users:activity!user",
    "tokens!user",
    "read:tokens!user",
]

SERVER_SCOPES = [
    "servers!user",
    "read:servers!user",
    "delete:servers!user",
    "access:servers!user",
]

CULLER_SCOPES = ["list:users", "read:users:activity", "read:servers", "delete:servers"]


def culler_role(service_name: str, *, cull_users: bool = False) -> dict[str, Any]:
    """Least privilege for jupyterhub-idle-culler: list users, read activity, stop servers.

    ``admin:users`` only when users themselves are culled (``--cull-users``).
    """
    scopes = list(CULLER_SCOPES) + (["admin:users"] if cull_users else [])
    return {
        "name": f"{service_name}-role",
        "description": "Arrêter les serveurs inactifs (jupyterhub-idle-culler).",
        "scopes": scopes,
        "services": [service_name],
    }


def load_roles(
    admin: str,
    *,
    browsable_services: Iterable[str] = (),
    extra: Iterable[dict[str, Any]] = (),
) -> list[dict[str, Any]]:
    """The ``c.JupyterHub.load_roles`` list.

    ``browsable_services``: hub services users log in to (HubOAuth), e.g. the catalog; every
    signed-in user gets ``access:services!service=<name>`` on them. ``extra``: more roles
    (service roles such as ``culler_role``).
    """
    access = [f"access:services!service={name}" for name in browsable_services]
    return [
        {
            "name": "user",
            "description": "Utilisateur connecté : son compte, ses jetons, aucun serveur.",
            "scopes": USER_SCOPES + access,
        },
        {
            "name": "biblio-collectivite",
            "description": "Agents de collectivités : champs restreints du catalogue.",
            "scopes": [SCOPE_RESTREINT, SCOPE_REPRODUIRE],
            "groups": [GROUP_COLLECTIVITES],
        },
        {
            "name": "biblio-expert",
            "description": "Experts : partie experte et leurs propres démonstrateurs.",
            "scopes": [SCOPE_EXPERT, SCOPE_WORKSPACES, SCOPE_REPRODUIRE, *SERVER_SCOPES],
            "groups": [GROUP_EXPERTS],
        },
        {
            "name": "admin",
            "users": [admin],
            "groups": [GROUP_ADMINS],
        },
        {
            "name": "biblio-admin",
            "description": "Administrateurs : tous les niveaux du catalogue.",
            "scopes": [SCOPE_EXPERT, SCOPE_WORKSPACES, SCOPE_REPRODUIRE, *SERVER_SCOPES],
            "users": [admin],
            "groups": [GROUP_ADMINS],
        },
        *extra,
    ]


def load_groups(members: dict[str, Iterable[str]] | None = None) -> dict[str, dict[str, Any]]:
    """``c.JupyterHub.load_groups``: the three tier groups (members are only ever added)."""
    members = members or {}
    return {name: {"users": sorted(members.get(name, ()))} for name in GROUPS}
