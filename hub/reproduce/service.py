"""The reproduce service: a hub-managed JupyterHub service (tornado + HubOAuth).

Only users whose hub token carries ``custom:biblio:reproduire`` get in (others: a French 403
page); every job and upload is looked up with the user's name, so another user's answers
404. Pages (French, autoescaped Jinja2, the catalog's look) under
``$JUPYTERHUB_SERVICE_PREFIX`` (``/services/reproduce/``):

``""`` Mes analyses; ``nouvelle/<entry>`` upload; ``fichier/<upload>/colonnes`` column
mapping (GET form, POST choices); ``fichier/<upload>/validation`` the ``biblio validate``
report and the parameters form; ``fichier/<upload>/lancer`` (POST) queue the analysis;
``analyse/<job>`` progress then results; ``analyse/<job>/rapport`` the HTML report (shown in
a sandboxed frame); ``analyse/<job>/telecharger/<name>`` downloads; ``analyse/<job>/supprimer``
and ``supprimer-tout`` (POST) erasure.

JSON API (a token in ``Authorization`` also works): ``api/televersement/<entry>`` (POST, the
file as the request body, streamed to disk), ``api/fichiers/<upload>/analyse`` (POST JSON
``{"column_map", "params"}``), ``api/analyses`` and ``api/analyses/<job>`` (GET, DELETE).

Run by the hub as ``python -m hub.reproduce --catalog-url URL`` (``hub/reproduce/__main__.py``;
settings from the ``BIBLIO_*`` variables the hub passes).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import html
import json
import logging
import multiprocessing
import os
import re
import sys
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape
from jupyterhub.services.auth import HubOAuthCallbackHandler
from jupyterhub.utils import url_path_join
from tornado import web
from tornado.httpserver import HTTPServer

from hub.config.roles import SCOPE_EXPERT, SCOPE_REPRODUIRE
from hub.config.settings import Settings
from hub.reproduce import fields as fieldmod
from hub.reproduce import files, paramform, worker
from hub.reproduce.demonstrator import DemonstratorError, notebook_name, open_in_demonstrator
from hub.reproduce.scheduler import Scheduler
from hub.reproduce.store import FINAL, RUNNING, Job, JobStore, StoreError, Upload, new_id
from hub.reproduce.worker import PROGRESS_FILE, RESULTS
from hub.runner import entries as runner_entries
from hub.service_auth import HubUserHandler
from hub.service_auth import cookie_secret as service_cookie_secret
from hub.shared import COOKIE_OPTIONS, block_slow_optional_imports
from hub.workspaces.hubapi import HubAPI
from models.entries import entry_ids, entry_paths, is_entry_id
from models.errors import BiblioError

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
CATALOG_TEMPLATES = HERE.parent / "catalog" / "templates"
CATALOG_STATIC = HERE.parent / "catalog" / "static"
HEX32 = r"([0-9a-f]{32})"
DOWNLOAD_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,80}\.(csv|json)$")
FORBIDDEN = (
    "Accès refusé : « Essayer sur mes données » est réservé aux agents des collectivités, aux "
    "experts et aux administrateurs. Demandez à l'administrateur du hub de vous ajouter au "
    "groupe de votre collectivité."
)


def make_env() -> Environment:
    env = Environment(
        loader=ChoiceLoader([FileSystemLoader(str(TEMPLATES))]),
        autoescape=select_autoescape(default=True, default_for_string=True),
    )
    env.filters["date_fr"] = lambda t: (
        dt.datetime.fromtimestamp(t).astimezone().strftime("%d/%m/%Y %H:%M") if t else ""
    )
    env.filters["taille"] = files.human_size
    return env


def entry_title(entry_id: str, root: Path) -> str:
    try:
        return runner_entries.entry_title(entry_id, root, cheap=True)
    except Exception:  # noqa: BLE001 - a title is decoration
        return entry_id


class BaseHandler(HubUserHandler):
    """Resolves the hub user (async), checks the scope, renders French pages."""

    async def prepare(self) -> None:
        user = await self.resolve_hub_user()
        scopes = set((user or {}).get("scopes") or ())
        self.allowed = SCOPE_REPRODUIRE in scopes
        self.expert = SCOPE_EXPERT in scopes

    # --- shared -------------------------------------------------------------------------

    @property
    def store(self) -> JobStore:
        return self.settings["store"]

    @property
    def base(self) -> Path:
        return self.settings["base"]

    @property
    def cfg(self) -> Settings:
        return self.settings["biblio"]

    @property
    def prefix(self) -> str:
        return self.settings["prefix"]

    @property
    def user_name(self) -> str:
        return self.current_user["name"]

    def is_api(self) -> bool:
        return self.request.path.startswith(url_path_join(self.prefix, "api"))

    def require(self) -> None:
        """Signed in (else log in through the hub) and holding the scope (else 403)."""
        if not self.current_user:
            if self.request.method in ("GET", "HEAD") and not self.is_api():
                self.redirect(self.get_login_url())
                raise web.Finish()
            raise web.HTTPError(403)
        if not self.allowed:
            raise web.HTTPError(403)

    def set_default_headers(self) -> None:
        self.set_header("X-Content-Type-Options", "nosniff")
        self.set_header("Referrer-Policy", "same-origin")
        self.set_header("Cache-Control", "no-store")
        self.set_header(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            "frame-src 'self'; frame-ancestors 'self'; form-action 'self'",
        )

    def render_page(self, name: str, **ctx: Any) -> None:
        ctx.update(
            prefix=self.prefix,
            catalog=self.settings["catalog_url"],
            hub_base=self.settings["hub_base"],
            user=self.current_user,
            expert=getattr(self, "expert", False),
            xsrf=self.xsrf_token.decode() if self.current_user else "",
            retention=self.cfg.repro_retention_days,
            max_upload=files.human_size(self.cfg.repro_max_upload),
        )
        self.set_header("Content-Type", "text/html; charset=UTF-8")
        self.finish(self.settings["jinja"].get_template(name).render(**ctx))

    def write_json(self, data: Any, status: int = 200) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json; charset=UTF-8")
        self.finish(json.dumps(data, ensure_ascii=False))

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        messages = {
            403: FORBIDDEN,
            404: "Page, fichier ou analyse introuvable.",
            413: files.too_big_message(self.cfg.repro_max_upload),
        }
        message = getattr(self, "_message", None) or messages.get(
            status_code, "Erreur du service « Essayer sur mes données »."
        )
        if self.is_api():
            self.write_json({"erreur": message, "statut": status_code}, status_code)
            return
        self.render_page("erreur.html", status=status_code, message=message)

    def fail(self, status: int, message: str) -> None:
        self._message = message
        raise web.HTTPError(status)

    def entry_or_404(self, entry_id: str) -> str:
        if not is_entry_id(entry_id) or entry_id not in entry_ids(self.settings["repo_root"]):
            raise web.HTTPError(404)
        return entry_id

    def upload_or_404(self, upload_id: str) -> Upload:
        up = self.store.upload(self.user_name, upload_id)
        if up is None:
            raise web.HTTPError(404)
        return up

    def job_or_404(self, job_id: str) -> Job:
        job = self.store.job(self.user_name, job_id)
        if job is None:
            raise web.HTTPError(404)
        return job

    def upload_file(self, up: Upload) -> Path:
        return files.uploads_dir(self.base, up.user) / up.stored

    def job_folder(self, job: Job) -> Path:
        return files.job_dir(self.base, job.user, job.id)

    def hide_paths(self, job: Job, data: bytes, escape) -> bytes:
        """``data`` with the server's paths of the job (upload, folder) replaced by the name
        of the user's file (``escape``: how that name is written in this document)."""
        shown = escape(job.file_name).encode("utf-8")
        up = self.store.upload(job.user, job.upload_id)
        folder = str(self.job_folder(job)).encode("utf-8")
        if up is not None:
            path = str(self.upload_file(up)).encode("utf-8")
            data = data.replace(path, shown).replace(up.stored.encode("utf-8"), shown)
        return data.replace(folder, b"")

    def status_of(self, job: Job) -> dict[str, Any]:
        """What the progress page shows: state, queue place, notebook cell."""
        out: dict[str, Any] = {
            "id": job.id,
            "entree": job.entry_id,
            "fichier": job.file_name,
            "etat": job.state,
            "libelle": job.state_label,
            "message": job.message,
            "note": job.grade,
            "chiffre": job.headline,
            "cree": job.created,
            "debut": job.started,
            "fin": job.ended,
            "termine": job.state in FINAL,
            "relances": job.reruns,
        }
        if job.state == "queued":
            out["position"] = self.store.position(job.id)
        if job.state == RUNNING:
            try:
                progress = json.loads((self.job_folder(job) / PROGRESS_FILE).read_text("utf-8"))
            except (OSError, ValueError):
                progress = {"etape": "preparation"}
            out["progression"] = {
                k: progress.get(k) for k in ("etape", "cellule", "cellules", "section")
            }
        return out


# --- pages ----------------------------------------------------------------------------------


class HomeHandler(BaseHandler):
    def get(self) -> None:
        self.require()
        root = self.settings["repo_root"]
        jobs = self.store.jobs_of(self.user_name)
        deleted = {
            "1": "L'analyse et son fichier ont été supprimés.",
            "tout": "Toutes vos données ont été supprimées (fichiers, analyses, correspondances).",
        }.get(self.get_argument("supprime", ""), "")
        self.render_page(
            "analyses.html",
            jobs=jobs,
            request_deleted=deleted,
            titles={e: entry_title(e, root) for e in entry_ids(root)},
        )


class NewHandler(BaseHandler):
    def get(self, entry_id: str) -> None:
        self.require()
        entry_id = self.entry_or_404(entry_id)
        self.render_page(
            "televerser.html",
            entry_id=entry_id,
            max_bytes=self.cfg.repro_max_upload,
            title=entry_title(entry_id, self.settings["repo_root"]),
            fields=fieldmod.expected_fields(entry_id, self.settings["repo_root"]),
        )


class ColumnsHandler(BaseHandler):
    def context(self, up: Upload) -> dict[str, Any]:
        root = self.settings["repo_root"]
        expected = fieldmod.expected_fields(up.entry_id, root)
        try:
            columns, rows = files.preview(self.upload_file(up))
        except BiblioError as exc:
            self.fail(422, f"Le fichier « {up.original_name} » ne peut pas être lu : {exc}")
        return {"up": up, "fields": expected, "columns": columns, "rows": rows,
                "title": entry_title(up.entry_id, root)}  # fmt: skip

    def get(self, upload_id: str) -> None:
        self.require()
        up = self.upload_or_404(upload_id)
        ctx = self.context(up)
        remembered = up.mapping() or self.store.remembered_mapping(self.user_name, up.entry_id)
        ctx["chosen"] = fieldmod.suggest_mapping(ctx["fields"], ctx["columns"], remembered)
        self.render_page("colonnes.html", problem="", **ctx)

    def post(self, upload_id: str) -> None:
        self.require()
        up = self.upload_or_404(upload_id)
        ctx = self.context(up)
        choices = {f.name: self.get_body_argument(f"col_{f.name}", "") for f in ctx["fields"]}
        try:
            mapping = fieldmod.column_map_from_form(ctx["fields"], ctx["columns"], choices)
        except fieldmod.MappingError as exc:
            self.set_status(422)
            ctx["chosen"] = {k: v for k, v in choices.items() if v}
            self.render_page("colonnes.html", problem=str(exc), **ctx)
            return
        self.store.set_upload_mapping(self.user_name, up.id, mapping)
        self.store.remember_mapping(self.user_name, up.entry_id, mapping)
        self.redirect(url_path_join(self.prefix, "fichier", up.id, "validation"))


class Validator:
    """A warm process (readers imported once) that checks uploads like ``biblio validate``.

    The file is read there, never in the service; a check that takes longer than
    ``timeout`` seconds stops that process (a new one is started for the next check).
    """

    def __init__(self, min_share: float, timeout: float = 300) -> None:
        self.min_share = min_share
        self.timeout = timeout
        self.pool: ProcessPoolExecutor | None = None

    def _pool(self) -> ProcessPoolExecutor:
        if self.pool is None:
            self.pool = ProcessPoolExecutor(
                max_workers=1,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=worker.warm,
                initargs=(os.getpid(),),  # a worker started as the service dies ends too
                max_tasks_per_child=50,
            )
            self.pool.submit(int)  # start it now, not at the first check
        return self.pool

    def start(self) -> None:
        self._pool()

    def reset(self) -> None:
        pool, self.pool = self.pool, None
        if pool is not None:
            for proc in list(getattr(pool, "_processes", {}).values()):
                proc.kill()
            pool.shutdown(wait=False, cancel_futures=True)

    async def check(self, entry_id: str, path: Path, mapping: dict[str, str]) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        call = (worker.validate_safely, entry_id, str(path), mapping, self.min_share)
        try:
            return await asyncio.wait_for(loop.run_in_executor(self._pool(), *call), self.timeout)
        except TimeoutError:
            self.reset()
            return {"utilisable": False, "rapport": "La vérification a pris trop de temps."}
        except BrokenProcessPool:
            self.reset()
            return {
                "utilisable": False,
                "rapport": "La vérification s'est arrêtée (fichier trop gros pour la mémoire ?).",
            }


async def validation_report(settings: dict, up: Upload, path: Path) -> dict[str, Any]:
    """``biblio validate``'s report of the upload with its mapping (cached beside it)."""
    mapping = up.mapping()
    key = json.dumps(mapping, sort_keys=True, ensure_ascii=False)
    cache = path.with_name(path.name.split(".")[0] + ".validation.json")
    try:
        cached = json.loads(cache.read_text("utf-8"))
        if cached.get("mapping") == key:
            return cached["report"]
    except (OSError, ValueError, KeyError):
        pass
    report = await settings["validator"].check(up.entry_id, path, mapping)
    cache.write_text(json.dumps({"mapping": key, "report": report}, ensure_ascii=False), "utf-8")
    return report


class ValidationHandler(BaseHandler):
    async def get(self, upload_id: str) -> None:
        self.require()
        up = self.upload_or_404(upload_id)
        report = await validation_report(self.settings, up, self.upload_file(up))
        notebook = entry_paths(up.entry_id, self.settings["repo_root"]).notebook
        self.render_page(
            "validation.html",
            up=up,
            title=entry_title(up.entry_id, self.settings["repo_root"]),
            report=report,
            mapping=up.mapping(),
            params=paramform.form_fields(notebook),
            values={},
            problem="",
        )


def submit(handler: BaseHandler, up: Upload, column_map: dict, raw: dict[str, str]) -> Job:
    """Check the parameters like the runner and queue the analysis (``fail`` in French)."""
    from hub.runner.params import ParameterError, notebook_parameters

    notebook = entry_paths(up.entry_id, handler.settings["repo_root"]).notebook
    form = paramform.form_fields(notebook)
    try:
        values = paramform.values_from_form(raw, form, notebook_parameters(notebook))
        job = handler.store.submit(
            handler.user_name, up, column_map, values, per_user=handler.cfg.repro_queue_per_user
        )
    except (ParameterError, StoreError) as exc:
        handler.fail(422, str(exc))
    handler.settings["scheduler"].wake.set()
    return job


class LaunchHandler(BaseHandler):
    def post(self, upload_id: str) -> None:
        self.require()
        up = self.upload_or_404(upload_id)
        raw = {k: self.get_body_argument(k) for k in self.request.body_arguments if k != "_xsrf"}
        job = submit(self, up, up.mapping(), raw)
        self.redirect(url_path_join(self.prefix, "analyse", job.id))


class JobHandler(BaseHandler):
    def get(self, job_id: str) -> None:
        self.require()
        job = self.job_or_404(job_id)
        out = self.job_folder(job) / RESULTS
        downloads = []
        if job.state == "done" and out.is_dir():
            downloads = sorted(
                p.name for p in out.iterdir() if p.is_file() and DOWNLOAD_NAME.match(p.name)
            )
        self.render_page(
            "analyse.html",
            job=job,
            status=self.status_of(job),
            title=entry_title(job.entry_id, self.settings["repo_root"]),
            downloads=downloads,
            notebook=job.state == "done"
            and self.expert
            and (out / f"{job.entry_id}.ipynb").is_file(),
        )


class ReportHandler(BaseHandler):
    def set_default_headers(self) -> None:
        super().set_default_headers()
        # the runner's report: inline styles and images, no script, no request out
        self.set_header(
            "Content-Security-Policy",
            "sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'; "
            "frame-ancestors 'self'",
        )

    def get(self, job_id: str) -> None:
        self.require()
        job = self.job_or_404(job_id)
        path = self.job_folder(job) / RESULTS / "rapport.html"
        if job.state != "done" or not path.is_file():
            raise web.HTTPError(404)
        self.set_header("Content-Type", "text/html; charset=UTF-8")
        self.finish(self.hide_paths(job, path.read_bytes(), html.escape))


class DownloadHandler(BaseHandler):
    def get(self, job_id: str, name: str) -> None:
        self.require()
        job = self.job_or_404(job_id)
        out = self.job_folder(job) / RESULTS
        if name == "notebook" and self.expert:
            path, shown = out / f"{job.entry_id}.ipynb", f"{job.entry_id}.ipynb"
        elif DOWNLOAD_NAME.match(name):
            path, shown = out / name, name
        else:
            raise web.HTTPError(404)
        if job.state != "done" or not path.is_file() or path.parent != out:
            raise web.HTTPError(404)
        data = path.read_bytes()
        if name == "notebook":
            data = self.hide_paths(job, data, lambda t: json.dumps(t, ensure_ascii=False)[1:-1])
        if name == "run.json":  # no server path in what the user gets
            record = json.loads(data)
            (record.get("input") or {})["path"] = job.file_name
            record.get("parameters", {})["data_path"] = job.file_name
            data = json.dumps(record, ensure_ascii=False, indent=2).encode("utf-8")
        kind = "text/csv" if name.endswith(".csv") else "application/json"
        self.set_header("Content-Type", f"{kind}; charset=UTF-8")
        self.set_header("Content-Disposition", f'attachment; filename="{shown}"')
        self.finish(data)


class OpenHandler(BaseHandler):
    """« Ouvrir dans mon démonstrateur » (experts): the executed notebook of a finished
    analysis copied into the expert's demonstrator of its entry, then opened there."""

    async def post(self, job_id: str) -> None:
        self.require()
        if not self.expert:
            raise web.HTTPError(403)
        job = self.job_or_404(job_id)
        path = self.job_folder(job) / RESULTS / f"{job.entry_id}.ipynb"
        if job.state != "done" or not path.is_file():
            raise web.HTTPError(404)
        text = self.hide_paths(
            job, path.read_bytes(), lambda t: json.dumps(t, ensure_ascii=False)[1:-1]
        )
        try:
            url = await open_in_demonstrator(
                api=HubAPI(token=self.hub_auth.get_token(self)),  # the expert's own rights
                public_url=self.cfg.public_url,
                user=self.user_name,
                entry_id=job.entry_id,
                name=notebook_name(job.entry_id, job.id, job.created),
                notebook=json.loads(text),
            )
        except DemonstratorError as error:
            self.fail(502, str(error))
        self.redirect(url, status=303)  # a path, or the user's own origin with subdomains


async def stop_running(handler: BaseHandler, job: Job, message: str) -> None:
    """Stop the run of ``job`` if it runs (its process or container first), mark it failed."""
    if job.state != RUNNING:
        return
    await handler.settings["scheduler"].cancel(job.id)
    now = handler.store.job(None, job.id)
    if now is not None and now.state == RUNNING:  # it may have ended meanwhile
        handler.store.set_state(job.id, "failed", message=message, pid=None)


async def erase_job(handler: BaseHandler, job: Job) -> None:
    await stop_running(handler, job, "Analyse supprimée par l'utilisateur.")
    handler.store.delete_job(handler.user_name, job.id)
    files.remove_tree(handler.job_folder(job))
    up = handler.store.delete_upload(handler.user_name, job.upload_id)
    if up is not None:
        for p in files.uploads_dir(handler.base, up.user).glob(up.id + ".*"):
            p.unlink(missing_ok=True)


async def erase_user(handler: BaseHandler) -> None:
    user = handler.user_name
    for job in handler.store.jobs_of(user):
        await stop_running(handler, job, "Supprimée.")
    handler.store.delete_user(user)
    files.remove_tree(files.user_dir(handler.base, user))


class DeleteHandler(BaseHandler):
    async def post(self, job_id: str) -> None:
        self.require()
        await erase_job(self, self.job_or_404(job_id))
        self.redirect(self.prefix + "?supprime=1")


class DeleteAllHandler(BaseHandler):
    async def post(self) -> None:
        self.require()
        await erase_user(self)
        self.redirect(self.prefix + "?supprime=tout")


class LogoutHandler(BaseHandler):
    def get(self) -> None:
        self.clear_cookie(self.hub_auth.cookie_name, path=self.prefix)
        self.redirect(url_path_join(self.settings["hub_base"], "logout"))


# --- API --------------------------------------------------------------------------------------


@web.stream_request_body
class UploadHandler(BaseHandler):
    """The file as the request body, written to disk chunk by chunk (never whole in memory)."""

    writer: files.UploadWriter | None = None

    async def prepare(self) -> None:
        await super().prepare()
        self.require()
        if self.request.method != "POST":
            raise web.HTTPError(405)
        self.entry_id = self.entry_or_404(self.path_args[0])
        limit = self.cfg.repro_max_upload
        # The proxy forwards an answer only once the body is sent: past the limit the body is
        # read and dropped (up to 4 times the limit), then the answer is a French message.
        self.request.connection.set_max_body_size(limit * 4)
        self.upload_id = new_id()
        folder = files.uploads_dir(self.base, self.user_name)
        self.writer = files.UploadWriter(folder, self.upload_id, limit)
        if int(self.request.headers.get("Content-Length") or 0) > limit:
            self.writer.refuse()

    def data_received(self, chunk: bytes) -> None:
        if self.writer is not None:
            self.writer.write(chunk)

    def on_connection_close(self) -> None:
        if self.writer is not None:
            self.writer.abort()

    async def post(self, entry_id: str) -> None:
        writer = self.writer
        if writer is None:
            raise web.HTTPError(400)
        if writer.refused:
            raise web.HTTPError(413)
        part = writer.close()
        if writer.size == 0:
            part.unlink(missing_ok=True)
            self.fail(422, "Le fichier envoyé est vide.")
        name = unquote(self.request.headers.get("X-Nom-Fichier", "") or "fichier.csv")
        name = re.sub(r"[\x00-\x1f/\\]", "_", name).strip()[:200] or "fichier.csv"
        try:
            final, kind = await asyncio.get_running_loop().run_in_executor(
                None, files.finish_upload, part
            )
        except BiblioError as exc:
            self.fail(422, str(exc))
        up = self.store.add_upload(
            self.user_name, self.entry_id, name, final.name, writer.size, self.upload_id
        )
        self.write_json(
            {
                "id": up.id,
                "format": kind,
                "taille": writer.size,
                "suite": url_path_join(self.prefix, "fichier", up.id, "colonnes"),
            },
            201,
        )


class ApiSubmitHandler(BaseHandler):
    def post(self, upload_id: str) -> None:
        self.require()
        up = self.upload_or_404(upload_id)
        try:
            body = json.loads(self.request.body or b"{}")
        except ValueError:
            self.fail(400, "Corps JSON invalide.")
        column_map = {str(k): str(v) for k, v in (body.get("column_map") or {}).items()}
        raw = {str(k): str(v) for k, v in (body.get("params") or {}).items()}
        self.store.set_upload_mapping(self.user_name, up.id, column_map)
        job = submit(self, up, column_map, raw)
        self.write_json(self.status_of(job), 201)


class ApiJobsHandler(BaseHandler):
    def get(self) -> None:
        self.require()
        self.write_json(
            {"analyses": [self.status_of(j) for j in self.store.jobs_of(self.user_name)]}
        )


class ApiJobHandler(BaseHandler):
    def get(self, job_id: str) -> None:
        self.require()
        self.write_json(self.status_of(self.job_or_404(job_id)))

    async def delete(self, job_id: str) -> None:
        self.require()
        await erase_job(self, self.job_or_404(job_id))
        self.set_status(204)
        self.finish()


def make_app(
    settings: Settings,
    store: JobStore,
    scheduler: Scheduler,
    *,
    validator: Validator | None = None,
    prefix: str,
    catalog_url: str,
    hub_base: str = "/hub/",
    cookie_secret: bytes | None = None,
) -> web.Application:
    p = prefix if prefix.endswith("/") else prefix + "/"
    eid = r"([a-z][a-z0-9_]{0,63})"
    routes = [
        (p, HomeHandler),
        (p + f"nouvelle/{eid}", NewHandler),
        (p + f"fichier/{HEX32}/colonnes", ColumnsHandler),
        (p + f"fichier/{HEX32}/validation", ValidationHandler),
        (p + f"fichier/{HEX32}/lancer", LaunchHandler),
        (p + f"analyse/{HEX32}", JobHandler),
        (p + f"analyse/{HEX32}/rapport", ReportHandler),
        (p + f"analyse/{HEX32}/telecharger/([^/]+)", DownloadHandler),
        (p + f"analyse/{HEX32}/supprimer", DeleteHandler),
        (p + f"analyse/{HEX32}/ouvrir", OpenHandler),
        (p + "supprimer-tout", DeleteAllHandler),
        (p + "deconnexion", LogoutHandler),
        (p + "oauth_callback", HubOAuthCallbackHandler),
        (p + f"api/televersement/{eid}", UploadHandler),
        (p + f"api/fichiers/{HEX32}/analyse", ApiSubmitHandler),
        (p + "api/analyses", ApiJobsHandler),
        (p + f"api/analyses/{HEX32}", ApiJobHandler),
        (p + "static/(catalogue\\.css)", web.StaticFileHandler, {"path": str(CATALOG_STATIC)}),
        (p + "statique/(.*)", web.StaticFileHandler, {"path": str(STATIC)}),
    ]
    return web.Application(
        routes,
        biblio=settings,
        store=store,
        scheduler=scheduler,
        validator=validator or Validator(settings.min_usable_share),
        base=settings.repro_dir,
        repo_root=settings.repo_root,
        prefix=p,
        catalog_url=catalog_url,
        hub_base=hub_base,
        jinja=make_env(),
        cookie_secret=cookie_secret or os.urandom(32),
        xsrf_cookies=False,  # HubOAuth checks the XSRF token of every cookie-authenticated POST
        xsrf_cookie_kwargs=dict(COOKIE_OPTIONS),  # HubOAuth's own XSRF cookie
    )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Service « Essayer sur mes données ».")
    parser.add_argument("--catalog-url", default="/services/catalog/")
    parser.add_argument("--hub-origin", default="", help="the hub's origin with subdomains")
    return parser.parse_args(argv)


async def serve(args: argparse.Namespace) -> None:
    settings = Settings.from_env()
    prefix = os.environ.get("JUPYTERHUB_SERVICE_PREFIX", "/services/reproduce/")
    url = urlparse(os.environ.get("JUPYTERHUB_SERVICE_URL", "http://127.0.0.1:10102"))
    site_base = os.environ.get("JUPYTERHUB_BASE_URL", settings.base_url)
    hub_prefix = args.hub_origin + site_base.rstrip("/") + "/hub/"
    settings.repro_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    store = JobStore(settings.repro_db_url)
    scheduler = Scheduler(store, settings, settings.repro_dir)
    await scheduler.start()
    validator = Validator(settings.min_usable_share)
    validator.start()
    app = make_app(
        settings, store, scheduler, validator=validator, prefix=prefix,
        catalog_url=args.catalog_url, hub_base=hub_prefix, cookie_secret=service_cookie_secret(),
    )  # fmt: skip
    server = HTTPServer(app, xheaders=True, max_body_size=settings.repro_max_upload * 4)
    server.listen(url.port or 80, settings.service_bind)
    print(
        f"Essayer sur mes données : à l'écoute sur {settings.service_bind}:{url.port}{prefix} "
        f"({settings.repro_max_jobs} analyse(s) à la fois)",
        flush=True,
    )
    try:
        await asyncio.Event().wait()
    finally:  # stopped by the hub: no waiting on a warm validation process at exit
        validator.reset()


def log_jobs() -> None:
    """The scheduler's lines (analysis launched, where, ended) in the hub's log."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("[reproduce %(levelname)s %(asctime)s] %(message)s"))
    logger = logging.getLogger("biblio.reproduce")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False


def main(argv: list[str] | None = None) -> int:
    block_slow_optional_imports()  # nbformat imports jsonschema (seconds on a busy machine)
    args = parse_args(argv)
    log_jobs()
    try:
        asyncio.run(serve(args))
    except KeyboardInterrupt:
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
