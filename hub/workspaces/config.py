"""Hub configuration of the workspaces: the service, its least-privilege role, user access.

``configure_workspaces(c, settings)`` only *adds* to what the hub configured (like
``hub.catalog.config.configure_catalog``): the ``espaces`` service entry, its role, and
``access:services!service=espaces`` for every signed-in user, and the link « Mes espaces » in
the hub's pages (template variable ``biblio_workspaces_url``).

The service acts through the hub API with its own token, limited to the servers of the users
who may own a workspace (groups ``experts`` and ``admins``, and the admin account): start,
stop, read them, and manage their shares and share codes. To grant a share, the hub demands
that the granter itself holds the access it grants, hence ``access:servers`` on the same
owners. It reads any user's name (to share by name) and the shares a user received (their
"Mes espaces" page). It checks itself that the caller owns the workspace, or is a member.
"""

from __future__ import annotations

import sys
from typing import Any

from hub.config.roles import GROUP_ADMINS, GROUP_EXPERTS, SCOPE_WORKSPACES
from hub.config.settings import Settings
from hub.shared import free_port, managed_service

SERVICE_NAME = "espaces"
OWNER_SCOPES = ("servers", "read:servers", "access:servers", "shares", "read:shares")


def service_url(settings: Settings) -> str:
    return f"{settings.base_url}services/{SERVICE_NAME}/"


def owner_filters(admin: str) -> list[str]:
    """Who may own a workspace: the tier groups with the workspace scope, and the admin."""
    return [f"group={GROUP_EXPERTS}", f"group={GROUP_ADMINS}", f"user={admin}"]


def service_scopes(admin: str) -> list[str]:
    scopes = [f"{scope}!{f}" for scope in OWNER_SCOPES for f in owner_filters(admin)]
    return scopes + ["read:users:name", "read:users:shares"]


def workspaces_service(settings: Settings, python: str = sys.executable) -> dict[str, Any]:
    """The ``c.JupyterHub.services`` entry: hub-managed, 127.0.0.1 only."""
    return managed_service(
        SERVICE_NAME,
        "hub.workspaces.service",
        ["--workspaces-dir", str(settings.workspaces_dir), "--repo-root", str(settings.repo_root)],
        port=settings.workspaces_port or free_port(),
        description="Espaces de travail communs",
        display=True,
        cwd=settings.repo_root,
        scopes=[SCOPE_WORKSPACES],
        python=python,
    )


def workspaces_roles(settings: Settings) -> list[dict[str, Any]]:
    return [
        {"name": "user", "scopes": [f"access:services!service={SERVICE_NAME}"]},
        {
            "name": f"{SERVICE_NAME}-role",
            "description": "Service des espaces communs : serveurs et partages des experts.",
            "scopes": service_scopes(settings.admin),
            "services": [SERVICE_NAME],
        },
    ]


def configure_workspaces(c: Any, settings: Settings) -> None:
    """Add the workspaces service and its roles to a hub configuration."""
    from hub.catalog.config import add_service

    add_service(
        c,
        workspaces_service(settings),
        workspaces_roles(settings),
        {"biblio_workspaces_url": service_url(settings)},
    )
