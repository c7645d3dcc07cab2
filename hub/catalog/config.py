"""Hub configuration of the catalog: its service entry, roles, templates, landing page.

``configure_catalog(c, settings)`` is the one call ``hub.config.configure`` makes; it only
*adds* to what the hub configured (appends the service, merges role scopes, prepends the
template folder) and sets ``default_url`` so that the catalog is the landing page.

Settings read from ``settings.env`` (README, "Catalogue"): ``BIBLIO_CATALOG_PORT`` (default:
a free port on 127.0.0.1 chosen when the configuration runs), ``BIBLIO_CATALOG_IMPORT``
(national import file, default ``<state>/catalog/national.json``), ``BIBLIO_CATALOG_RUNS``
(CI outputs, default ``<repo>/test-artifacts/runs``).
"""

from __future__ import annotations

import socket
import sys
from pathlib import Path
from typing import Any

from hub.catalog.tiers import SCOPE_EXPERT, SCOPE_RESTREINT
from hub.settings import Settings, SettingsError

SERVICE_NAME = "catalog"
HUB_TEMPLATES = Path(__file__).resolve().parents[1] / "templates"


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def catalog_port(settings: Settings) -> int:
    raw = (settings.env.get("BIBLIO_CATALOG_PORT") or "").strip()
    if not raw:
        return free_port()
    if not raw.isdigit() or not 1 <= int(raw) <= 65535:
        raise SettingsError(
            f"BIBLIO_CATALOG_PORT vaut « {raw} » : un port entre 1 et 65535 est attendu."
        )
    return int(raw)


def import_file(settings: Settings) -> Path:
    raw = (settings.env.get("BIBLIO_CATALOG_IMPORT") or "").strip()
    return Path(raw).absolute() if raw else settings.state_dir / "catalog" / "national.json"


def runs_dir(settings: Settings) -> Path:
    raw = (settings.env.get("BIBLIO_CATALOG_RUNS") or "").strip()
    return Path(raw).absolute() if raw else settings.repo_root / "test-artifacts" / "runs"


def catalog_prefix(settings: Settings) -> str:
    return f"{settings.base_url}services/{SERVICE_NAME}/"


def catalog_service(settings: Settings, python: str = sys.executable) -> dict[str, Any]:
    """The ``c.JupyterHub.services`` entry: hub-managed, 127.0.0.1 only, absolute paths."""
    return {
        "name": SERVICE_NAME,
        "display": True,
        "info": {"description": "Catalogue des projets d'IA des collectivités"},
        "url": f"http://127.0.0.1:{catalog_port(settings)}",
        "command": [
            str(Path(python).absolute()),
            "-m",
            "hub.catalog.service",
            "--repo-root",
            str(settings.repo_root),
            "--import-file",
            str(import_file(settings)),
            "--runs-dir",
            str(runs_dir(settings)),
            "--site-base",
            settings.base_url,
        ],
        "cwd": str(settings.repo_root),
        "environment": {"PYTHONPATH": str(Path(__file__).resolve().parents[2])},
        "oauth_no_confirm": True,
        "oauth_client_allowed_scopes": [SCOPE_RESTREINT, SCOPE_EXPERT],
    }


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


def landing_url(settings: Settings):
    """``default_url`` callable: the catalog for everyone (logged-in users via its login)."""
    prefix = catalog_prefix(settings)

    def default_url(handler: Any) -> str:
        if handler.current_user is None:
            return prefix
        return prefix + "connexion"

    return default_url


def configure_catalog(c: Any, settings: Settings) -> None:
    """Add the catalog to a hub configuration (see the module docstring)."""
    services = list(c.JupyterHub.services) if "services" in c.JupyterHub else []
    c.JupyterHub.services = [s for s in services if s.get("name") != SERVICE_NAME] + [
        catalog_service(settings)
    ]
    roles = list(c.JupyterHub.load_roles) if "load_roles" in c.JupyterHub else []
    c.JupyterHub.load_roles = merge_roles(roles, catalog_roles(settings))
    paths = list(c.JupyterHub.template_paths) if "template_paths" in c.JupyterHub else []
    c.JupyterHub.template_paths = [str(HUB_TEMPLATES)] + [
        p for p in paths if p != str(HUB_TEMPLATES)
    ]
    tvars = dict(c.JupyterHub.template_vars) if "template_vars" in c.JupyterHub else {}
    tvars.update(biblio_catalog_url=catalog_prefix(settings), biblio_site_base=settings.base_url)
    c.JupyterHub.template_vars = tvars
    c.JupyterHub.default_url = landing_url(settings)
