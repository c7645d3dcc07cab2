"""The catalog service: a hub-managed JupyterHub service (tornado + HubOAuth).

Pages (French, server-side, autoescaped Jinja2) and a JSON API share one filtering:
``store.record_view(record, tier)``. The tier comes only from the scopes of the user's hub
token (``hub.catalog.tiers.tier_from_user``); anonymous visitors get the public tier.

Routes under ``$JUPYTERHUB_SERVICE_PREFIX`` (e.g. ``/services/catalog/``):
``""`` list (``q``, ``theme``, ``type``, ``statut``, ``audience``), ``carte`` map,
``projet/<id>`` card, ``projet/<id>/expert`` expert page, ``connexion`` (log in through the
hub and come back), ``deconnexion``, ``oauth_callback``, ``api/projets``,
``api/projets/<id>``, ``api/projets/<id>/expert``, ``api/facettes``, ``static/…``.

Fast under load: the catalog keeps its searches and facets (``hub.catalog.store``), and
the list, map and card pages are kept rendered (``PageCache``) per catalog generation,
handler, tier, user and URL; a new import starts a new generation, so nothing stale is
served. Expert pages (they read run outputs) and error pages are never kept.

Run by the hub: ``python -m hub.catalog.service --repo-root R --import-file F --runs-dir D``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from collections import OrderedDict
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlparse

from jinja2 import Environment, FileSystemLoader, select_autoescape
from jupyterhub.services.auth import HubOAuthCallbackHandler
from jupyterhub.utils import url_path_join
from tornado import web
from tornado.httpserver import HTTPServer

from hub.catalog import mapsvg
from hub.catalog.expert import expert_material
from hub.catalog.national import PUBLIC_FIELDS, field_label
from hub.catalog.normalise import safe_url
from hub.catalog.snapshot import ensure_import
from hub.catalog.store import FILTER_LABELS, FILTERS, Catalog, record_view
from hub.catalog.tiers import Tier, tier_from_user
from hub.config.roles import SCOPE_REPRODUIRE, SCOPE_WORKSPACES
from hub.config.settings import Settings
from hub.service_auth import HubUserHandler, cookie_secret
from hub.shared import COOKIE_OPTIONS
from hub.spawners.launch import launch_url

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
PROFILE_MAX_AGE = 60  # seconds a user's name and organisation are kept per token
TIER_NAMES = {
    Tier.PUBLIC: "public",
    Tier.RESTREINT: "restreint (collectivités)",
    Tier.EXPERT: "expert",
}


class CatalogSource:
    """The catalog, reloaded when the import file changes (checked at most once a second).

    ``biblio catalog import`` therefore shows up without restarting the hub.
    """

    def __init__(
        self, catalog: Catalog, repo_root: Path | None = None, import_file: Path | None = None
    ) -> None:
        self.catalog = catalog
        self.repo_root = repo_root
        self.import_file = import_file
        self.generation = 0  # one more at each reload: the key of the rendered pages
        self._stamp = self._mtime()
        self._checked = time.monotonic()

    def _mtime(self) -> float | None:
        try:
            return self.import_file.stat().st_mtime_ns if self.import_file else None
        except OSError:
            return None

    def current(self) -> Catalog:
        now = time.monotonic()
        if self.import_file is not None and now - self._checked >= 1.0:
            self._checked = now
            stamp = self._mtime()
            if stamp != self._stamp:
                self._stamp = stamp
                try:
                    self.catalog = Catalog.load(self.repo_root, self.import_file)
                    self.generation += 1
                except (OSError, ValueError) as exc:  # keep serving the previous catalog
                    print(f"Import illisible, catalogue précédent conservé : {exc}", flush=True)
        return self.catalog


class PageCache:
    """The last ``size`` rendered pages, by key (least recently used dropped first)."""

    def __init__(self, size: int = 256) -> None:
        self.size = size
        self._pages: OrderedDict[tuple, str] = OrderedDict()

    def get(self, key: tuple) -> str | None:
        body = self._pages.get(key)
        if body is not None:
            self._pages.move_to_end(key)
        return body

    def put(self, key: tuple, body: str) -> None:
        self._pages[key] = body
        self._pages.move_to_end(key)
        while len(self._pages) > self.size:
            self._pages.popitem(last=False)


def make_env() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(default=True, default_for_string=True),
    )
    env.globals.update(
        field_label=field_label, safe_url=safe_url, Tier=Tier, public_order=PUBLIC_FIELDS
    )
    return env


class BaseHandler(HubUserHandler):
    """Resolves the hub user once per request (async) and renders French pages."""

    #: Pages that depend only on the catalog, the tier, the user and the URL (kept rendered).
    cacheable = False

    async def prepare(self) -> None:
        user = await self.resolve_hub_user()
        self.tier = tier_from_user(user)
        self.profile = await self.user_profile(user) if user else None
        # « Essayer sur mes données » (hub.reproduce): its button and « Mes analyses »
        scopes = set((user or {}).get("scopes") or ())
        self.can_reproduce = SCOPE_REPRODUIRE in scopes
        # « Mes espaces » (hub.workspaces): for those who may own a joint workspace
        self.can_work_together = SCOPE_WORKSPACES in scopes

    async def user_profile(self, user: dict[str, Any]) -> dict[str, str] | None:
        """Name and organisation of a ProConnect user (their own ``auth_state``), else None.

        Read with the user's own token, only when it may read its auth_state (ProConnect
        mode), and kept a minute per token.
        """
        if not any(s.startswith("admin:auth_state") for s in user.get("scopes") or ()):
            return None
        token = self.hub_auth.get_token(self)
        cache = self.settings.setdefault("profile_cache", {})
        hit = cache.get(token)
        if hit and time.monotonic() - hit[0] < PROFILE_MAX_AGE:
            return hit[1]
        url = url_path_join(self.hub_auth.api_url, "users", user["name"])
        try:
            model = await self.hub_auth._api_request(
                "GET", url, headers={"Authorization": f"token {token}"}, allow_403=True
            )
        except (web.HTTPError, ValueError):
            return None
        profile = ((model or {}).get("auth_state") or {}).get("profil")
        if len(cache) > 1000:
            cache.clear()
        cache[token] = (time.monotonic(), profile)
        return profile

    @property
    def catalog(self) -> Catalog:
        return self.settings["catalog_source"].current()

    @property
    def prefix(self) -> str:
        return self.settings["prefix"]

    def set_default_headers(self) -> None:
        self.set_header("X-Content-Type-Options", "nosniff")
        self.set_header("Referrer-Policy", "same-origin")
        self.set_header(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            "frame-ancestors 'self'",
        )

    def _page_key(self) -> tuple:
        user = self.current_user
        source = self.settings["catalog_source"]
        source.current()  # a changed import makes a new generation first
        name = user.get("name") if isinstance(user, dict) else None
        page = (type(self).__name__, self.request.uri)
        rights = (getattr(self, "can_reproduce", False), getattr(self, "can_work_together", False))
        return (source.generation, self.tier, rights, name, page)

    def cached(self) -> bool:
        """Send the kept page for this request, if there is one."""
        if not self.cacheable:
            return False
        body = self.settings["pages"].get(self._page_key())
        if body is None:
            return False
        self.set_header("Content-Type", "text/html; charset=UTF-8")
        self.finish(body)
        return True

    def filters(self) -> dict[str, str]:
        return {k: self.get_argument(k, "").strip() for k in FILTERS}

    def render_page(self, name: str, **ctx: Any) -> None:
        user = self.current_user
        ctx.update(
            prefix=self.prefix,
            hub_base=self.settings["hub_base"],
            user=user,
            profile=getattr(self, "profile", None),
            tier=self.tier,
            tier_name=TIER_NAMES[self.tier],
            request_uri=self.request.uri,
            workspaces_url=self.settings.get("workspaces_url", "")
            if getattr(self, "can_work_together", False)
            else "",
            can_reproduce=getattr(self, "can_reproduce", False),
            reproduce_url=self.reproduce_url,
            login_url=url_path_join(self.prefix, "connexion")
            + "?"
            + urlencode({"next": self.request.uri}),
        )
        body = self.settings["jinja"].get_template(name).render(**ctx)
        if self.cacheable and self.get_status() == 200:
            self.settings["pages"].put(self._page_key(), body)
        self.set_header("Content-Type", "text/html; charset=UTF-8")
        self.finish(body)

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        messages = {
            403: "Accès refusé : votre compte n'a pas les droits nécessaires pour cette page.",
            404: "Page ou fiche introuvable.",
        }
        message = messages.get(status_code, "Erreur du service catalogue.")
        if self.request.path.startswith(url_path_join(self.prefix, "api")):
            self.set_header("Content-Type", "application/json; charset=UTF-8")
            self.finish(json.dumps({"erreur": message, "statut": status_code}, ensure_ascii=False))
            return
        self.render_page("erreur.html", status=status_code, message=message)

    def record_or_404(self, record_id: str) -> dict[str, Any]:
        record = self.catalog.get(record_id)
        if record is None:
            raise web.HTTPError(404)
        return record

    @property
    def reproduce_url(self) -> str:
        """« Essayer sur mes données » (hub.reproduce), absolute when services have subdomains."""
        from hub.reproduce.config import reproduce_origin

        hub_origin = self.settings.get("hub_origin", "")
        path = url_path_join(self.settings["site_base"], "services/reproduce/")
        return reproduce_origin(hub_origin) + path

    def launch_link(self, record: dict[str, Any]) -> str | None:
        user = self.current_user
        if self.tier < Tier.EXPERT or not user or not (record.get("expert") or {}).get("launch"):
            return None
        path = launch_url(self.settings["site_base"], user["name"], record["id"])
        return self.settings["hub_origin"] + path  # absolute when the catalog has a subdomain


class ListHandler(BaseHandler):
    cacheable = True

    def get(self) -> None:
        if self.cached():
            return
        query = self.get_argument("q", "").strip()
        filters = self.filters()
        found = self.catalog.search(self.tier, query, filters)
        self.render_page(
            "liste.html",
            query=query,
            filters=filters,
            facets=self.catalog.facets(Tier.PUBLIC),
            filter_labels=FILTER_LABELS,
            projects=[record_view(r, self.tier) for r in found],
            total=len(self.catalog.records),
            map=mapsvg.map_model(self.catalog.points(found)),
        )


class MapHandler(BaseHandler):
    cacheable = True

    def get(self) -> None:
        if self.cached():
            return
        found = self.catalog.search(self.tier, self.get_argument("q", ""), self.filters())
        self.render_page("carte.html", map=mapsvg.map_model(self.catalog.points(found)))


class CardHandler(BaseHandler):
    cacheable = True

    def get(self, record_id: str) -> None:
        if self.cached():
            return
        record = self.record_or_404(record_id)
        self.render_page(
            "fiche.html",
            project=record_view(record, self.tier),
            has_expert=bool(record.get("expert")),
            launch=self.launch_link(record),
        )


class ExpertHandler(BaseHandler):
    @web.authenticated
    def get(self, record_id: str) -> None:
        record = self.record_or_404(record_id)
        if self.tier < Tier.EXPERT:
            raise web.HTTPError(403)
        if not record.get("expert"):
            raise web.HTTPError(404)
        material = expert_material(record, self.settings["repo_root"], self.settings["runs_dir"])
        self.render_page(
            "expert.html",
            project=record_view(record, self.tier),
            expert=material,
            launch=self.launch_link(record),
        )


class LoginHandler(BaseHandler):
    """Log in through the hub (OAuth, no confirmation page), then go back to ``next``."""

    @web.authenticated
    def get(self) -> None:
        target = self.get_argument("next", "") or self.prefix
        parsed = urlparse(target)
        if parsed.scheme or parsed.netloc or not parsed.path.startswith(self.prefix):
            target = self.prefix
        self.redirect(target)


class LogoutHandler(BaseHandler):
    def get(self) -> None:
        self.clear_cookie(self.hub_auth.cookie_name, path=self.prefix)
        self.redirect(url_path_join(self.settings["hub_base"], "logout"))


class NotFoundHandler(BaseHandler):
    """Any address the catalog does not serve: its French 404 page, not Tornado's own."""

    async def prepare(self) -> None:
        await super().prepare()  # the page keeps the visitor's header (name, tier)
        raise web.HTTPError(404)


class ApiBase(BaseHandler):
    def write_json(self, data: Any) -> None:
        self.set_header("Content-Type", "application/json; charset=UTF-8")
        self.set_header("Cache-Control", "no-store")
        self.finish(json.dumps(data, ensure_ascii=False))


class ApiListHandler(ApiBase):
    def get(self) -> None:
        found = self.catalog.search(self.tier, self.get_argument("q", ""), self.filters())
        self.write_json(
            {
                "niveau": self.tier.label,
                "total": len(found),
                "projets": [record_view(r, self.tier) for r in found],
            }
        )


class ApiCardHandler(ApiBase):
    def get(self, record_id: str) -> None:
        record = self.record_or_404(record_id)
        view = record_view(record, self.tier)
        view["niveau"] = self.tier.label
        view["lancement"] = self.launch_link(record)
        self.write_json(view)


class ApiExpertHandler(ApiBase):
    def get(self, record_id: str) -> None:
        record = self.record_or_404(record_id)
        if self.tier < Tier.EXPERT:
            raise web.HTTPError(403)
        if not record.get("expert"):
            raise web.HTTPError(404)
        material = expert_material(record, self.settings["repo_root"], self.settings["runs_dir"])
        material["lancement"] = self.launch_link(record)
        self.write_json({"id": record["id"], "niveau": self.tier.label, "expert": material})


class ApiFacetsHandler(ApiBase):
    def get(self) -> None:
        facets = self.catalog.facets(Tier.PUBLIC)
        self.write_json(
            {k: [{"valeur": v, "nombre": c} for v, c in items] for k, items in facets.items()}
        )


def make_app(
    catalog: Catalog | CatalogSource,
    *,
    prefix: str,
    repo_root: Path,
    runs_dir: Path,
    hub_base: str = "/hub/",
    site_base: str = "/",
    hub_origin: str = "",
    cookie_secret: bytes | None = None,
) -> web.Application:
    p = prefix if prefix.endswith("/") else prefix + "/"
    rid = r"([A-Za-z0-9_\-]+)"
    routes = [
        (p, ListHandler),
        (p + "carte", MapHandler),
        (p + f"projet/{rid}", CardHandler),
        (p + f"projet/{rid}/expert", ExpertHandler),
        (p + "connexion", LoginHandler),
        (p + "deconnexion", LogoutHandler),
        (p + "oauth_callback", HubOAuthCallbackHandler),
        (p + "api/projets", ApiListHandler),
        (p + f"api/projets/{rid}", ApiCardHandler),
        (p + f"api/projets/{rid}/expert", ApiExpertHandler),
        (p + "api/facettes", ApiFacetsHandler),
        (p + "static/(.*)", web.StaticFileHandler, {"path": str(STATIC)}),
    ]
    source = catalog if isinstance(catalog, CatalogSource) else CatalogSource(catalog)
    return web.Application(
        routes,
        catalog_source=source,
        prefix=p,
        hub_base=hub_base,
        site_base=site_base,
        hub_origin=hub_origin,
        repo_root=repo_root,
        runs_dir=runs_dir,
        jinja=make_env(),
        pages=PageCache(),
        cookie_secret=cookie_secret or os.urandom(32),
        static_url_prefix=p + "static/",
        workspaces_url=url_path_join(site_base, "services/espaces/"),
        xsrf_cookies=False,
        xsrf_cookie_kwargs=dict(COOKIE_OPTIONS),  # HubOAuth's own XSRF cookie
        default_handler_class=NotFoundHandler,
    )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Service catalogue de biblio-ia.")
    parser.add_argument("--repo-root", type=Path, required=True)
    parser.add_argument("--import-file", type=Path, default=None)
    parser.add_argument("--runs-dir", type=Path, required=True)
    parser.add_argument("--site-base", default="/")
    parser.add_argument(
        "--hub-origin",
        default="",
        help="the hub's origin when the catalog has a subdomain of its own (BIBLIO_SUBDOMAIN_HOST)",
    )
    return parser.parse_args(argv)


async def serve(args: argparse.Namespace) -> None:
    prefix = os.environ.get("JUPYTERHUB_SERVICE_PREFIX", "/services/catalog/")
    url = urlparse(os.environ.get("JUPYTERHUB_SERVICE_URL", "http://127.0.0.1:10101"))
    site_base = os.environ.get("JUPYTERHUB_BASE_URL", args.site_base)
    hub_prefix = args.hub_origin + site_base.rstrip("/") + "/hub/"
    first = ensure_import(args.import_file)
    if first is not None:
        print(
            f"Catalogue : premier démarrage, instantané national importé "
            f"({len(first.records)} fiches) dans {args.import_file}",
            flush=True,
        )
    catalog = Catalog.load(args.repo_root, args.import_file)
    app = make_app(
        CatalogSource(catalog, args.repo_root, args.import_file),
        prefix=prefix,
        repo_root=args.repo_root,
        runs_dir=args.runs_dir,
        hub_base=hub_prefix,
        site_base=site_base,
        hub_origin=args.hub_origin,
        cookie_secret=cookie_secret(),
    )
    server = HTTPServer(app, xheaders=True)
    # 127.0.0.1 unless the deployment says otherwise (Kubernetes: the proxy is in another pod).
    bind = Settings.from_env().service_bind
    server.listen(url.port or 80, bind)
    print(
        f"Catalogue : {len(catalog.records)} fiches, à l'écoute sur {bind}:{url.port}{prefix}",
        flush=True,
    )
    await asyncio.Event().wait()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        asyncio.run(serve(args))
    except KeyboardInterrupt:
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
