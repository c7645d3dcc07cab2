"""The scheduler of the reproduce service: starts waiting analyses, watches them, ends them.

``Scheduler.start()`` first ``recover``s the queue (jobs left ``running`` by a stopped
service are queued again once; their leftover processes or containers are stopped), purges
what is older than the retention, then every ``tick`` starts waiting jobs (fair order,
``store.queue_order``) while fewer than ``BIBLIO_REPRO_MAX_JOBS`` run. Each job is
``hub.reproduce.worker`` run by the runner of the mode (``hub.reproduce.runners``: a
subprocess in local mode, a container in docker mode), one code path for both: launch,
watch (killed past ``BIBLIO_REPRO_TIME_LIMIT``), record its end from ``result.json``, clean
up (the container is removed); ``cancel`` stops it before a deletion. The runner's calls
block: they run in the scheduler's threads, never on the service's event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from hub.config.settings import Settings
from hub.reproduce import files
from hub.reproduce.runners import Run, Runner, runner_for
from hub.reproduce.store import DONE, FAILED, RUNNING, Job, JobStore
from hub.reproduce.worker import JOB_FILE, PROGRESS_FILE, RESULT_FILE, RESULTS, write_json

log = logging.getLogger("biblio.reproduce")
T = TypeVar("T")
TICK_S = 0.5
PURGE_EVERY_S = 3600
TIMEOUT_MESSAGE = (
    "L'analyse a dépassé la durée maximale autorisée ({limit} s) et a été arrêtée. "
    "Essayez le mode rapide ou un fichier plus court."
)
RERUN_DONE = "(Interrompue par un redémarrage du service, elle a été relancée automatiquement.)"
CRASH_MESSAGE = (
    "L'analyse s'est arrêtée sans résultat (code {code}) : mémoire ou temps de calcul "
    "insuffisant ? Essayez le mode rapide ou un fichier plus court."
)


def upload_path(base: Path, job: Job, stored: str) -> Path:
    return files.uploads_dir(base, job.user) / stored


def prepare_job_dir(base: Path, job: Job, settings: Settings) -> Path:
    """A clean folder for (another attempt of) the job, with its ``job.json``."""
    folder = files.job_dir(base, job.user, job.id)
    for name in (RESULTS, PROGRESS_FILE, RESULT_FILE):
        target = folder / name
        if target.is_dir():
            files.remove_tree(target)
        else:
            target.unlink(missing_ok=True)
    for leftover in folder.glob(f".{RESULTS}*"):  # the runner's temporary folders
        files.remove_tree(leftover)
    folder.mkdir(parents=True, exist_ok=True)
    write_json(
        folder / JOB_FILE,
        {
            "entry_id": job.entry_id,
            "column_map": job.mapping(),
            "params": job.parameters(),
            "cell_timeout": settings.repro_time_limit,
        },
    )
    return folder


class Scheduler:
    """Runs the queue of ``store`` (see the module docstring)."""

    def __init__(
        self, store: JobStore, settings: Settings, base: Path, runner: Runner | None = None
    ) -> None:
        self.store = store
        self.settings = settings
        self.base = Path(base)
        self.runner: Runner = runner or runner_for(settings)
        self.active: dict[str, Run | None] = {}  # job id -> its run (None while it starts)
        self._cancelled: set[str] = set()
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="biblio-analyses")
        self._task: asyncio.Task | None = None
        self._watchers: set[asyncio.Task] = set()
        self._last_purge = 0.0
        self._stopped = False
        self.wake = asyncio.Event()

    async def call(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` in the scheduler's threads (the runner's calls block)."""
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)

    # --- start and stop --------------------------------------------------------------------

    def recover(self) -> None:
        """Stop what a previous service left running; queue its jobs again (once)."""
        stopped = self.runner.stop_leftovers(self.store.running())
        result = self.store.recover()
        if stopped or result.requeued or result.interrupted:
            log.warning(
                "Reprise : %d analyse(s) arrêtée(s), %d relancée(s), %d interrompue(s).",
                stopped,
                len(result.requeued),
                len(result.interrupted),
            )

    async def start(self) -> None:
        await self.call(self.recover)
        self.purge()
        self._task = asyncio.get_running_loop().create_task(self._loop())

    async def stop(self) -> None:
        """End the loop (a flag, not only a cancellation: Python 3.11's ``wait_for`` may
        swallow a cancellation that races with its own end)."""
        self._stopped = True
        self.wake.set()
        if self._task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._task), 5)
            except (TimeoutError, asyncio.CancelledError):
                self._task.cancel()

    async def _loop(self) -> None:
        while not self._stopped:
            try:
                self.tick()
                if time.time() - self._last_purge > PURGE_EVERY_S:
                    self.purge()
            except Exception:  # keep scheduling: one bad job must not stop the queue
                log.exception("Erreur du planificateur d'analyses")
            self.wake.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.wake.wait(), TICK_S)

    # --- running jobs ----------------------------------------------------------------------

    def tick(self) -> None:
        """Start waiting jobs while there is room (each in its own task)."""
        while True:
            job = self.store.claim_next(self.settings.repro_max_jobs)
            if job is None:
                return
            self.active[job.id] = None
            task = asyncio.get_running_loop().create_task(self._run(job))
            self._watchers.add(task)
            task.add_done_callback(self._watchers.discard)

    async def _run(self, job: Job) -> None:
        """Launch, watch and end one job; its container or process is gone afterwards."""
        run = None
        try:
            run = await self.launch(job)
            if run is not None:
                code, timed_out = await self.watch(run)
                self.finish(job.id, code, folder=run.folder, timed_out=timed_out)
        except Exception as exc:  # noqa: BLE001 - the job fails, the queue goes on
            log.exception("Échec du lancement ou du suivi de l'analyse %s", job.id)
            self.fail(job.id, f"Lancement impossible : {exc}")
        finally:
            if run is not None:
                with contextlib.suppress(Exception):
                    await self.call(self.runner.cleanup, run)
            self.active.pop(job.id, None)
            self._cancelled.discard(job.id)
            self.wake.set()

    async def launch(self, job: Job) -> Run | None:
        upload = self.store.upload(job.user, job.upload_id)
        if upload is None:
            self.fail(job.id, "Le fichier de cette analyse a disparu.")
            return None
        folder = prepare_job_dir(self.base, job, self.settings)
        data = upload_path(self.base, job, upload.stored)
        run = await self.call(self.runner.start, job.id, job.user, folder, data)
        self.active[job.id] = run
        if job.id in self._cancelled:  # deleted while it started
            await self.call(self.runner.stop, run)
            return run
        with self.store.session() as s:
            row = s.get(Job, job.id)
            if row is not None:
                row.pid = run.pid
        where = f"conteneur {run.container[:12]}" if run.container else f"processus {run.pid}"
        log.info("Analyse %s lancée (%s, %s).", job.id, self.runner.kind, where)
        return run

    async def watch(self, run: Run) -> tuple[int | None, bool]:
        """Wait for the end of ``run``: its exit code, or ``(None, True)`` past the time
        limit (then it is stopped)."""
        deadline = time.monotonic() + self.settings.repro_time_limit
        while True:
            code = await self.call(self.runner.exit_code, run)
            if code is not None:
                return code, False
            if time.monotonic() > deadline:
                await self.call(self.runner.stop, run)
                return None, True
            await asyncio.sleep(self.runner.poll_interval)

    def fail(self, job_id: str, message: str) -> None:
        job = self.store.job(None, job_id)
        if job is not None and job.state == RUNNING and job_id not in self._cancelled:
            self.store.set_state(job_id, FAILED, message=message, pid=None)

    def finish(
        self, job_id: str, code: int | None, *, folder: Path, timed_out: bool = False
    ) -> None:
        job = self.store.job(None, job_id)
        if job is None or job.state != RUNNING or job_id in self._cancelled:  # deleted
            return
        try:
            result: dict[str, Any] = json.loads((folder / RESULT_FILE).read_text("utf-8"))
        except (OSError, ValueError):
            result = {}
        log.info("Analyse %s terminée (code %s).", job_id, "délai" if timed_out else code)
        if timed_out:
            message = TIMEOUT_MESSAGE.format(limit=self.settings.repro_time_limit)
            self.store.set_state(job_id, FAILED, message=message, pid=None)
        elif result.get("exit_code") == 0 and (folder / RESULTS / "metrics.json").is_file():
            message = str(result.get("message", ""))
            if job.reruns:
                message += " " + RERUN_DONE
            self.store.set_state(
                job_id,
                DONE,
                message=message,
                grade=str(result.get("grade", "")),
                headline=str(result.get("headline", "")),
                pid=None,
            )
        else:
            message = result.get("message") or CRASH_MESSAGE.format(code=code)
            self.store.set_state(job_id, FAILED, message=str(message), pid=None)

    async def cancel(self, job_id: str) -> None:
        """Stop the run of a job about to be deleted (its end is then not recorded); a run
        still starting is stopped as soon as it has started."""
        if job_id not in self.active:
            return
        self._cancelled.add(job_id)
        while job_id in self.active and self.active[job_id] is None:  # still starting
            await asyncio.sleep(0.05)
        run = self.active.get(job_id)
        if run is not None:
            await self.call(self.runner.stop, run)

    # --- retention -------------------------------------------------------------------------

    def purge(self, now: float | None = None) -> tuple[int, int]:
        """Delete jobs and uploads older than the retention (files, then rows)."""
        now = time.time() if now is None else now
        self._last_purge = now
        before = now - self.settings.repro_retention_days * 86400
        jobs, uploads = self.store.expired(before)
        # an upload is removed only once none of its jobs remains
        gone = {j.id for j in jobs}
        remaining = {j.upload_id for j in self.store.all_jobs() if j.id not in gone}
        uploads = [u for u in uploads if u.id not in remaining]
        for job in jobs:
            files.remove_tree(files.job_dir(self.base, job.user, job.id))
        for up in uploads:
            (files.uploads_dir(self.base, up.user) / up.stored).unlink(missing_ok=True)
        self.store.forget(jobs, uploads)
        if jobs or uploads:
            log.info("Purge : %d analyse(s), %d fichier(s) supprimés.", len(jobs), len(uploads))
        return len(jobs), len(uploads)
