"""The workspaces service: French pages to create workspaces, invite, revoke, open, export.

A hub-managed service (tornado + HubOAuth, like ``hub.catalog.service``), in the catalog's
look (its ``base.html`` and style sheet). Routes under ``/services/espaces/``:
``""`` "Mes espaces" (the workspaces one owns or belongs to, their members, state and last
commits), ``nouveau`` (GET form, POST create from an entry or empty), ``inviter/<ws>``,
``lien/<ws>`` (an expiring invitation link: a hub share code), ``retirer/<ws>``,
``liens-annuler/<ws>``, ``arreter/<ws>`` (POST, owner only, XSRF-checked by HubOAuth),
``ouvrir/<owner>/<ws>`` (start if needed, then go to JupyterLab; owner or member),
``export/<owner>/<ws>`` (the history as a git bundle), ``connexion``, ``oauth_callback``.

Who may do what is decided here from the caller's hub identity (OAuth): creating and
managing needs ``custom:biblio:espaces`` and ownership; opening needs ownership or a share.
The service then acts with its own least-privilege token (``hub.workspaces.config``).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlparse

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape
from jupyterhub.services.auth import HubOAuthCallbackHandler
from jupyterhub.utils import url_path_join
from tornado import web
from tornado.httpserver import HTTPServer

from hub.config.roles import SCOPE_WORKSPACES
from hub.config.settings import Settings
from hub.service_auth import HubUserHandler
from hub.service_auth import cookie_secret as service_cookie_secret
from hub.shared import COOKIE_OPTIONS
from hub.workspaces.folder import export_bundle, history, workspace_dir
from hub.workspaces.hubapi import HubAPI, HubAPIError, q
from hub.workspaces.names import WorkspaceError, check_server_name, is_workspace, server_name
from models.entries import entry_ids

HERE = Path(__file__).resolve().parent
TEMPLATES = [HERE / "templates", HERE.parent / "catalog" / "templates"]
#: Invitation link lifetimes offered (seconds -> French label).
EXPIRIES = {3600: "1 heure", 86400: "1 jour", 7 * 86400: "7 jours"}
READY_WAIT = 90.0


def make_env() -> Environment:
    return Environment(
        loader=ChoiceLoader([FileSystemLoader(str(p)) for p in TEMPLATES]),
        autoescape=select_autoescape(default=True, default_for_string=True),
    )


def server_state(model: dict[str, Any] | None) -> str:
    """French state of a server model of the hub API."""
    if not model:
        return "arrêté"
    if model.get("ready"):
        return "en marche"
    pending = model.get("pending")
    if pending == "spawn":
        return "en démarrage"
    if pending == "stop":
        return "en cours d'arrêt"
    return "arrêté"


class BaseHandler(HubUserHandler):
    """Pages of the workspaces service, for the visitor resolved once per request."""

    async def prepare(self) -> None:
        await self.resolve_hub_user()

    @property
    def api(self) -> HubAPI:
        return self.settings["hub_api"]

    @property
    def me(self) -> str:
        return self.current_user["name"]

    @property
    def may_create(self) -> bool:
        return SCOPE_WORKSPACES in (self.current_user or {}).get("scopes", [])

    def set_default_headers(self) -> None:
        self.set_header("X-Content-Type-Options", "nosniff")
        self.set_header("Referrer-Policy", "same-origin")
        self.set_header(
            "Content-Security-Policy",
            "default-src 'self'; style-src 'self'; script-src 'self'; frame-ancestors 'self'",
        )

    def render_page(self, name: str, **ctx: Any) -> None:
        ctx.update(
            prefix=self.settings["catalog_prefix"],
            ws=self.settings["prefix"],
            hub_base=self.settings["hub_base"],
            site_base=self.settings["site_base"],
            user=self.current_user,
            tier_name="expert" if self.may_create else "membre",
            login_url=url_path_join(self.settings["prefix"], "connexion")
            + "?"
            + urlencode({"next": self.request.uri}),
            xsrf=self.xsrf_form_html(),
            workspaces_url=self.settings["prefix"],
        )
        self.set_header("Content-Type", "text/html; charset=UTF-8")
        self.set_header("Cache-Control", "no-store")
        self.finish(self.settings["jinja"].get_template(name).render(**ctx))

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        messages = {
            403: "Accès refusé : vous n'êtes ni le créateur ni un membre de cet espace, "
            "ou votre compte n'a pas ce droit.",
            404: "Espace ou page introuvable.",
        }
        message = messages.get(status_code, "Erreur du service des espaces communs.")
        error = kwargs.get("exc_info", (None, None, None))[1]
        if isinstance(error, web.HTTPError) and error.log_message and status_code == 400:
            message = error.log_message
        self.render_page("erreur.html", status=status_code, message=message)

    def owned(self, ws: str) -> str:
        """``ws`` if it is a workspace name; managing needs the scope (403 otherwise)."""
        if not self.may_create:
            raise web.HTTPError(403)
        try:
            return check_server_name(ws)
        except WorkspaceError:
            raise web.HTTPError(404) from None

    async def require_member(self, owner: str, ws: str) -> None:
        """403 unless the caller owns ``owner/ws`` or received a share of it."""
        if not is_workspace(ws):
            raise web.HTTPError(404)
        if owner == self.me:
            return
        for item in await self.api.shared_with(self.me):
            server = item.get("server") or {}
            if server.get("name") == ws and (server.get("user") or {}).get("name") == owner:
                return
        raise web.HTTPError(403)

    def back(self, note: str = "") -> None:
        self.redirect(self.settings["prefix"] + (("?" + urlencode({"note": note})) if note else ""))


class ListHandler(BaseHandler):
    """ "Mes espaces": owned workspaces (members, links), then those shared with the caller."""

    @web.authenticated
    async def get(self) -> None:
        me = self.me
        owned = []
        if self.may_create:
            model = await self.api.call("GET", f"users/{q(me)}?include_stopped_servers=1")
            for name, server in sorted((model.get("servers") or {}).items()):
                if is_workspace(name):
                    owned.append(await self.describe(me, name, server, owner_view=True))
        joined = []
        for item in await self.api.shared_with(me):
            server = item.get("server") or {}
            owner = (server.get("user") or {}).get("name", "")
            if is_workspace(server.get("name", "")):
                # the owner's own model tells more (title, starting/stopping) than the share's
                try:
                    model = await self.api.call(
                        "GET", f"users/{q(owner)}?include_stopped_servers=1"
                    )
                    server = (model.get("servers") or {}).get(server["name"]) or server
                    joined.append(await self.describe(owner, item["server"]["name"], server))
                except HubAPIError:  # an owner who is no longer an expert: shown bare
                    joined.append(self.bare(owner, server["name"], server))
        self.render_page(
            "espaces.html",
            owned=owned,
            joined=joined,
            expiries=EXPIRIES,
            note=self.get_argument("note", ""),
            may_create=self.may_create,
        )

    @staticmethod
    def bare(owner: str, ws: str, server: dict) -> dict[str, Any]:
        return {
            "owner": owner, "name": ws, "titre": ws, "entree": "", "etat": server_state(server),
            "membres": [], "liens": 0, "historique": [],
        }  # fmt: skip

    async def describe(
        self, owner: str, ws: str, server: dict, *, owner_view: bool = False
    ) -> dict[str, Any]:
        members = [s["user"]["name"] for s in await self.api.shares(owner, ws) if s.get("user")]
        codes = await self.api.share_codes(owner, ws) if owner_view else []
        folder = workspace_dir(self.settings["workspaces_dir"], owner, ws)
        commits = []
        if (folder / ".git").is_dir():
            try:
                commits = (await asyncio.to_thread(history, folder))[:5]
            except WorkspaceError:
                commits = []
        options = server.get("user_options") or {}
        return {
            "owner": owner,
            "name": ws,
            "titre": options.get("titre") or ws,
            "entree": options.get("entree") or "",
            "etat": server_state(server),
            "membres": sorted(members),
            "liens": len(codes),
            "historique": commits,
        }


class NewHandler(BaseHandler):
    @web.authenticated
    def get(self) -> None:
        if not self.may_create:
            raise web.HTTPError(403)
        entry = self.get_argument("entree", "")
        entries = entry_ids(self.settings["repo_root"])
        self.render_page("nouveau.html", entry=entry if entry in entries else "", entries=entries)

    @web.authenticated
    async def post(self) -> None:
        if not self.may_create:
            raise web.HTTPError(403)
        title = self.get_argument("titre", "").strip()
        entry = self.get_argument("entree", "").strip() or None
        entries = entry_ids(self.settings["repo_root"])
        try:
            if entry is not None and entry not in entries:
                raise WorkspaceError(f"Entrée inconnue : « {entry} ».")
            ws = server_name(title)
            model = await self.api.call("GET", f"users/{q(self.me)}?include_stopped_servers=1")
            if ws in (model.get("servers") or {}):
                raise WorkspaceError(f"Vous avez déjà un espace nommé « {ws} ».")
            try:
                await self.api.start(self.me, ws, {"titre": title, "entree": entry})
            except HubAPIError as error:
                if error.status == 400 and "maximum" in str(error):
                    raise WorkspaceError(
                        "Vous avez atteint le nombre maximal de serveurs nommés "
                        "(démonstrateurs et espaces comptent ensemble, arrêtés compris) : "
                        "demandez à l'administrateur de supprimer un démonstrateur inutilisé "
                        "ou de relever BIBLIO_NAMED_SERVER_LIMIT."
                    ) from None
                raise
        except WorkspaceError as error:
            raise web.HTTPError(400, str(error)) from None
        self.redirect(f"{self.settings['prefix']}ouvrir/{self.me}/{ws}")


class OpenHandler(BaseHandler):
    """Start the workspace if needed (owner or member), then go to its JupyterLab."""

    @web.authenticated
    async def get(self, owner: str, ws: str) -> None:
        await self.require_member(owner, ws)
        deadline = time.monotonic() + READY_WAIT
        started = False
        while time.monotonic() < deadline:
            model = await self.api.call("GET", f"users/{q(owner)}?include_stopped_servers=1")
            server = (model.get("servers") or {}).get(ws)
            if server is None:
                raise web.HTTPError(404)
            if server.get("ready"):
                self.redirect(url_path_join(self.settings["site_base"], server["url"]))
                return
            if not server.get("pending") and not started:
                try:
                    await self.api.start(owner, ws)
                except HubAPIError as error:
                    raise web.HTTPError(
                        400, f"L'espace n'a pas pu démarrer ({error}) ; prévenez son créateur."
                    ) from None
                started = True
            await asyncio.sleep(0.1)
        raise web.HTTPError(400, "L'espace n'a pas démarré à temps ; réessayez dans un instant.")


class ActionHandler(BaseHandler):
    """POST actions of the owner on one workspace (XSRF-checked by HubOAuth)."""

    @web.authenticated
    async def post(self, action: str, ws: str) -> None:
        ws = self.owned(ws)
        me = self.me
        try:
            if action == "inviter":
                member = self.get_argument("membre", "").strip()
                if not member or member == me:
                    raise WorkspaceError("Indiquez le nom d'un autre compte.")
                try:
                    await self.api.share(me, ws, member)
                except HubAPIError as error:
                    if error.status == 400:
                        raise WorkspaceError(f"Compte inconnu : « {member} ».") from None
                    raise
                self.back(f"{member} est membre de {ws}.")
            elif action == "retirer":
                member = self.get_argument("membre", "").strip()
                await self.api.revoke(me, ws, member)
                self.back(f"{member} n'est plus membre de {ws}.")
            elif action == "lien":
                expires = int(self.get_argument("duree", "86400"))
                if expires not in EXPIRIES:
                    raise WorkspaceError("Durée de validité inconnue.")
                code = await self.api.share_code(me, ws, expires)
                target = f"{self.settings['prefix']}ouvrir/{me}/{ws}"
                link = code.get("full_accept_url") or code["accept_url"]
                link += "&" + urlencode({"next": target})
                if link.startswith("/"):
                    link = f"{self.request.protocol}://{self.request.host}{link}"
                self.render_page(
                    "lien.html", ws_name=ws, link=link, expires=EXPIRIES[expires],
                    expires_at=code.get("expires_at", ""),
                )  # fmt: skip
            elif action == "liens-annuler":
                await self.api.cancel_codes(me, ws)
                self.back(f"Liens d'invitation de {ws} annulés.")
            elif action == "arreter":
                await self.api.stop(me, ws)
                self.back(f"{ws} est arrêté ; ses fichiers sont conservés.")
            else:
                raise web.HTTPError(404)
        except HubAPIError as error:
            if error.status == 404:
                raise web.HTTPError(404) from None
            raise web.HTTPError(400, str(error)) from None
        except WorkspaceError as error:
            raise web.HTTPError(400, str(error)) from None


class ExportHandler(BaseHandler):
    """The workspace's whole history as a git bundle (owner or member)."""

    @web.authenticated
    async def get(self, owner: str, ws: str) -> None:
        await self.require_member(owner, ws)
        folder = workspace_dir(self.settings["workspaces_dir"], owner, ws)
        if not (folder / ".git").is_dir():
            raise web.HTTPError(404)
        with tempfile.TemporaryDirectory() as tmp:
            bundle = await asyncio.to_thread(export_bundle, folder, Path(tmp) / f"{ws}.bundle")
            data = bundle.read_bytes()
        self.set_header("Content-Type", "application/octet-stream")
        self.set_header("Content-Disposition", f'attachment; filename="{ws}.bundle"')
        self.finish(data)


class LoginHandler(BaseHandler):
    @web.authenticated
    def get(self) -> None:
        target = self.get_argument("next", "") or self.settings["prefix"]
        parsed = urlparse(target)
        if parsed.scheme or parsed.netloc or not parsed.path.startswith(self.settings["prefix"]):
            target = self.settings["prefix"]
        self.redirect(target)


def make_app(
    *,
    prefix: str,
    workspaces_dir: Path,
    repo_root: Path,
    hub_api: HubAPI,
    site_base: str = "/",
    cookie_secret: bytes | None = None,
) -> web.Application:
    p = prefix if prefix.endswith("/") else prefix + "/"
    name = r"([^/]+)"
    routes = [
        (p, ListHandler),
        (p + "nouveau", NewHandler),
        (p + f"ouvrir/{name}/{name}", OpenHandler),
        (p + f"export/{name}/{name}", ExportHandler),
        (p + f"(inviter|retirer|lien|liens-annuler|arreter)/{name}", ActionHandler),
        (p + "connexion", LoginHandler),
        (p + "oauth_callback", HubOAuthCallbackHandler),
    ]
    return web.Application(
        routes,
        prefix=p,
        catalog_prefix=url_path_join(site_base, "services/catalog/"),
        hub_base=url_path_join(site_base, "hub/"),
        site_base=site_base,
        workspaces_dir=workspaces_dir,
        repo_root=repo_root,
        hub_api=hub_api,
        jinja=make_env(),
        cookie_secret=cookie_secret or os.urandom(32),
        xsrf_cookie_kwargs=dict(COOKIE_OPTIONS),  # HubOAuth's own XSRF cookie
        # XSRF: HubOAuth accepts a cookie-authenticated POST only with a valid ``_xsrf``
        # (the forms' ``xsrf_form_html``); otherwise the caller is anonymous, hence 403.
        # Requests authenticated by a token header need none (browsers never add it).
        xsrf_cookies=False,
    )


async def serve(args: argparse.Namespace) -> None:
    prefix = os.environ.get("JUPYTERHUB_SERVICE_PREFIX", "/services/espaces/")
    url = urlparse(os.environ.get("JUPYTERHUB_SERVICE_URL", "http://127.0.0.1:10102"))
    app = make_app(
        prefix=prefix,
        workspaces_dir=args.workspaces_dir,
        repo_root=args.repo_root,
        hub_api=HubAPI(),
        site_base=os.environ.get("JUPYTERHUB_BASE_URL", "/"),
        cookie_secret=service_cookie_secret(),
    )
    server = HTTPServer(app, xheaders=True)
    bind = Settings.from_env().service_bind
    server.listen(url.port or 80, bind)
    print(f"Espaces communs : à l'écoute sur {bind}:{url.port}{prefix}", flush=True)
    await asyncio.Event().wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Service des espaces de travail communs.")
    parser.add_argument("--workspaces-dir", type=Path, required=True)
    parser.add_argument("--repo-root", type=Path, required=True)
    try:
        asyncio.run(serve(parser.parse_args(argv)))
    except KeyboardInterrupt:
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
