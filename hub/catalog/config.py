"""Hub configuration of the catalog: its service entry, roles, templates, landing page.

``configure_catalog(c, settings)`` is the one call ``hub.config.configure.configure`` makes; it only
*adds* to what the hub configured (appends the service, merges role scopes, prepends the
template folder) and sets ``default_url`` so that the catalog is the landing page.

Its settings are ``Settings.catalog_port`` (a free port on 127.0.0.1 chosen when the
configuration runs, unless ``BIBLIO_CATALOG_PORT`` names one), ``catalog_import`` (the national
import file) and ``catalog_runs`` (the outputs of ``biblio run --all``); see
``docs/configuration.md``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from hub.catalog.tiers import SCOPE_EXPERT, SCOPE_RESTREINT
from hub.config.roles import SCOPE_REPRODUIRE, SCOPE_WORKSPACES
from hub.config.settings import Settings
from hub.shared import free_port, managed_service

SERVICE_NAME = "catalog"
HUB_TEMPLATES = Path(__file__).resolve().parents[1] / "templates"


def catalog_port(settings: Settings) -> int:
    """``BIBLIO_CATALOG_PORT``, else a port free on 127.0.0.1 now."""
    return settings.catalog_port or free_port()


def catalog_prefix(settings: Settings) -> str:
    return f"{settings.base_url}services/{SERVICE_NAME}/"


def catalog_origin(settings: Settings) -> str:
    """``""`` (the site's origin), or the catalog's own subdomain with ``subdomain_host``, as
    JupyterHub names it (its ``idna`` subdomain hook: ``catalog--service.<host>``)."""
    if not settings.subdomain_host:
        return ""
    from jupyterhub.utils import subdomain_hook_idna

    parsed = urlparse(settings.subdomain_host)
    domain = subdomain_hook_idna(SERVICE_NAME, parsed.hostname, "service")
    return f"{parsed.scheme}://{domain}" + (f":{parsed.port}" if parsed.port else "")


def catalog_url(settings: Settings) -> str:
    """The catalog's address as the hub's pages link to it (absolute with subdomains)."""
    return catalog_origin(settings) + catalog_prefix(settings)


def catalog_service(settings: Settings, python: str = sys.executable) -> dict[str, Any]:
    """The ``c.JupyterHub.services`` entry: hub-managed, 127.0.0.1 only, absolute paths."""
    return managed_service(
        SERVICE_NAME,
        "hub.catalog.service",
        [
            "--repo-root",
            str(settings.repo_root),
            "--import-file",
            str(settings.catalog_import),
            "--runs-dir",
            str(settings.catalog_runs),
            "--site-base",
            settings.base_url,
            "--hub-origin",
            settings.subdomain_host,
        ],
        port=catalog_port(settings),
        description="Catalogue des projets d'IA des collectivités",
        display=True,
        cwd=settings.repo_root,
        scopes=[SCOPE_RESTREINT, SCOPE_EXPERT, SCOPE_REPRODUIRE, SCOPE_WORKSPACES]
        + (profile_scopes() if settings.auth == "proconnect" else []),
        python=python,
    )


def profile_scopes() -> list[str]:
    """ProConnect mode: the catalog reads its user's name and organisation (their own)."""
    from hub.config.proconnect import PROFILE_SCOPES

    return ["read:users:name!user", *PROFILE_SCOPES]


def catalog_roles(settings: Settings) -> list[dict[str, Any]]:
    """Role scopes the catalog needs: every signed-in user may log in to the service.

    The service itself needs no API scope (it only resolves its users' own tokens).
    """
    return [{"name": "user", "scopes": [f"access:services!service={SERVICE_NAME}"]}]


def merge_roles(existing: list[dict[str, Any]], additions: list[dict[str, Any]]) -> list:
    """``existing`` with ``additions`` merged in: same-name roles get the extra scopes."""
    out = [dict(r) for r in existing]
    for add in additions:
        for role in out:
            if role.get("name") == add["name"]:
                scopes = list(role.get("scopes") or [])
                role["scopes"] = scopes + [s for s in add.get("scopes", []) if s not in scopes]
                break
        else:
            out.append(dict(add))
    return out


def add_service(
    c: Any,
    service: dict[str, Any],
    roles: list[dict[str, Any]],
    template_vars: dict[str, Any] | None = None,
) -> None:
    """Add a hub-managed service to ``c``: its entry (replacing one of the same name), its
    roles (merged, ``merge_roles``) and the template variables the hub's pages read."""
    services = list(c.JupyterHub.services) if "services" in c.JupyterHub else []
    c.JupyterHub.services = [s for s in services if s.get("name") != service["name"]] + [service]
    existing = list(c.JupyterHub.load_roles) if "load_roles" in c.JupyterHub else []
    c.JupyterHub.load_roles = merge_roles(existing, roles)
    if template_vars:
        tvars = dict(c.JupyterHub.template_vars) if "template_vars" in c.JupyterHub else {}
        tvars.update(template_vars)
        c.JupyterHub.template_vars = tvars


def landing_url(settings: Settings):
    """``default_url`` callable: the catalog for everyone (logged-in users via its login)."""
    prefix = catalog_url(settings)

    def default_url(handler: Any) -> str:
        if handler.current_user is None:
            return prefix
        return prefix + "connexion"

    return default_url


def configure_catalog(c: Any, settings: Settings) -> None:
    """Add the catalog to a hub configuration (see the module docstring)."""
    add_service(
        c,
        catalog_service(settings),
        catalog_roles(settings),
        {"biblio_catalog_url": catalog_url(settings), "biblio_site_base": settings.base_url},
    )
    paths = list(c.JupyterHub.template_paths) if "template_paths" in c.JupyterHub else []
    c.JupyterHub.template_paths = [str(HUB_TEMPLATES)] + [
        p for p in paths if p != str(HUB_TEMPLATES)
    ]
    c.JupyterHub.default_url = landing_url(settings)
