"""The persisted state of the reproduce service: uploads, jobs, remembered column mappings.

One SQLAlchemy database (SQLite under the service's folder by default, PostgreSQL in
production, ``BIBLIO_REPRO_DB_URL``). Jobs move through a small state machine
(``TRANSITIONS``): ``queued`` → ``running`` → ``done`` / ``failed``; a job found ``running``
when the service starts again was cut by a restart: it is queued again once (``recover``),
then reported ``interrupted``. The queue is fair between users (``queue_order``): each user's
first waiting job comes before anyone's second one.

Every read that serves a page takes the user's name: a job or an upload of someone else is
``None`` (the pages answer 404).
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Float, Integer, String, Text, create_engine, event, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from models.errors import BiblioError

QUEUED, RUNNING, DONE, FAILED, INTERRUPTED = "queued", "running", "done", "failed", "interrupted"
STATES = (QUEUED, RUNNING, DONE, FAILED, INTERRUPTED)
FINAL = frozenset({DONE, FAILED, INTERRUPTED})
TRANSITIONS: dict[str, frozenset[str]] = {
    QUEUED: frozenset({RUNNING, FAILED}),
    RUNNING: frozenset({DONE, FAILED, INTERRUPTED, QUEUED}),
    DONE: frozenset(),
    FAILED: frozenset(),
    INTERRUPTED: frozenset(),
}
STATE_LABELS = {
    QUEUED: "en attente",
    RUNNING: "en cours",
    DONE: "terminée",
    FAILED: "échec",
    INTERRUPTED: "interrompue",
}
MAX_RERUNS = 1
FAIR_WINDOW_S = 3600  # a user's jobs started within this time count against their next turn
RERUN_MESSAGE = "Analyse interrompue par un redémarrage du service : relancée automatiquement."
INTERRUPTED_MESSAGE = (
    "Analyse interrompue deux fois par un redémarrage du service : relancez-la depuis "
    "« Mes analyses »."
)


class StoreError(BiblioError):
    """A refused operation on the queue (French message)."""


class JobStateError(StoreError):
    """A job cannot move from its state to the one asked."""


class QueueFull(StoreError):
    """The user already has as many analyses waiting or running as allowed."""


class Base(DeclarativeBase):
    pass


class Upload(Base):
    __tablename__ = "repro_uploads"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user: Mapped[str] = mapped_column(String(255), index=True)
    entry_id: Mapped[str] = mapped_column(String(64))
    original_name: Mapped[str] = mapped_column(String(255))  # shown, never used as a path
    stored: Mapped[str] = mapped_column(String(64))  # generated file name in the user's folder
    size: Mapped[int] = mapped_column(Integer, default=0)
    created: Mapped[float] = mapped_column(Float, index=True)
    column_map: Mapped[str] = mapped_column(Text, default="{}")  # chosen in the form

    def mapping(self) -> dict[str, str]:
        return json.loads(self.column_map or "{}")


class Job(Base):
    __tablename__ = "repro_jobs"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user: Mapped[str] = mapped_column(String(255), index=True)
    entry_id: Mapped[str] = mapped_column(String(64))
    upload_id: Mapped[str] = mapped_column(String(32), index=True)
    file_name: Mapped[str] = mapped_column(String(255))
    state: Mapped[str] = mapped_column(String(16), index=True, default=QUEUED)
    created: Mapped[float] = mapped_column(Float, index=True)
    started: Mapped[float | None] = mapped_column(Float, nullable=True)
    ended: Mapped[float | None] = mapped_column(Float, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    reruns: Mapped[int] = mapped_column(Integer, default=0)
    column_map: Mapped[str] = mapped_column(Text, default="{}")
    params: Mapped[str] = mapped_column(Text, default="{}")
    message: Mapped[str] = mapped_column(Text, default="")
    grade: Mapped[str] = mapped_column(String(16), default="")
    headline: Mapped[str] = mapped_column(Text, default="")
    pid: Mapped[int | None] = mapped_column(Integer, nullable=True)

    def mapping(self) -> dict[str, str]:
        return json.loads(self.column_map or "{}")

    def parameters(self) -> dict[str, Any]:
        return json.loads(self.params or "{}")

    @property
    def state_label(self) -> str:
        return STATE_LABELS.get(self.state, self.state)


class Mapping(Base):
    __tablename__ = "repro_mappings"
    user: Mapped[str] = mapped_column(String(255), primary_key=True)
    entry_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    mapping: Mapped[str] = mapped_column(Text, default="{}")
    updated: Mapped[float] = mapped_column(Float)


def new_id() -> str:
    """A random identifier (32 hex digits): job and upload ids, never guessable."""
    return secrets.token_hex(16)


def check_transition(current: str, target: str) -> None:
    """Raise ``JobStateError`` unless ``current`` → ``target`` is allowed."""
    if target not in TRANSITIONS.get(current, frozenset()):
        raise JobStateError(f"Une analyse « {current} » ne peut pas passer à « {target} ».")


def queue_order(queued: list[Job], running_by_user: dict[str, int] | None = None) -> list[Job]:
    """Waiting jobs in the order they will start: round robin between users.

    A job's turn is its rank among its user's waiting jobs plus the jobs that user was served
    lately (``running_by_user``: running, or started within ``FAIR_WINDOW_S``); ties go to
    the oldest. Five users with two jobs each start one job each first.
    """
    running_by_user = running_by_user or {}
    seen: dict[str, int] = {}
    keyed = []
    for job in sorted(queued, key=lambda j: (j.created, j.id)):
        rank = seen.get(job.user, 0)
        seen[job.user] = rank + 1
        keyed.append((rank + running_by_user.get(job.user, 0), job.created, job.id, job))
    return [k[-1] for k in sorted(keyed, key=lambda k: k[:3])]


@dataclass(frozen=True)
class Recovery:
    """What ``recover`` did to the jobs it found running: re-queued, or given up."""

    requeued: list[str]
    interrupted: list[str]
    pids: list[int]


class JobStore:
    """The database of the service (see the module docstring)."""

    def __init__(self, url: str) -> None:
        kwargs: dict[str, Any] = {}
        if url.startswith("sqlite"):
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
        self.engine = create_engine(url, **kwargs)
        if url.startswith("sqlite"):
            event.listen(self.engine, "connect", _sqlite_pragmas)
        Base.metadata.create_all(self.engine)
        self._session = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self._session() as s, s.begin():
            yield s

    def close(self) -> None:
        self.engine.dispose()

    # --- uploads ---------------------------------------------------------------------------

    def add_upload(
        self, user: str, entry_id: str, original_name: str, stored: str, size: int, upload_id: str
    ) -> Upload:
        up = Upload(
            id=upload_id,
            user=user,
            entry_id=entry_id,
            original_name=original_name[:255],
            stored=stored,
            size=size,
            created=time.time(),
        )
        with self.session() as s:
            s.add(up)
        return up

    def upload(self, user: str, upload_id: str) -> Upload | None:
        with self.session() as s:
            up = s.get(Upload, upload_id)
            return up if up is not None and up.user == user else None

    def set_upload_mapping(self, user: str, upload_id: str, mapping: dict[str, str]) -> None:
        with self.session() as s:
            up = s.get(Upload, upload_id)
            if up is not None and up.user == user:
                up.column_map = json.dumps(mapping, ensure_ascii=False)

    def uploads_of(self, user: str) -> list[Upload]:
        with self.session() as s:
            return list(s.scalars(select(Upload).where(Upload.user == user)))

    # --- mappings --------------------------------------------------------------------------

    def remember_mapping(self, user: str, entry_id: str, mapping: dict[str, str]) -> None:
        with self.session() as s:
            row = s.get(Mapping, (user, entry_id))
            text = json.dumps(mapping, ensure_ascii=False)
            if row is None:
                s.add(Mapping(user=user, entry_id=entry_id, mapping=text, updated=time.time()))
            else:
                row.mapping, row.updated = text, time.time()

    def remembered_mapping(self, user: str, entry_id: str) -> dict[str, str]:
        with self.session() as s:
            row = s.get(Mapping, (user, entry_id))
            return json.loads(row.mapping) if row is not None else {}

    # --- jobs ------------------------------------------------------------------------------

    def submit(
        self,
        user: str,
        upload: Upload,
        column_map: dict[str, str],
        params: dict[str, Any],
        *,
        per_user: int,
    ) -> Job:
        """Queue a job, unless ``user`` already has ``per_user`` jobs waiting or running."""
        with self.session() as s:
            active = s.scalars(
                select(Job).where(Job.user == user, Job.state.in_((QUEUED, RUNNING)))
            ).all()
            if len(active) >= per_user:
                raise QueueFull(
                    f"Vous avez déjà {len(active)} analyse(s) en attente ou en cours (limite : "
                    f"{per_user}). Attendez qu'une analyse se termine avant d'en lancer une autre."
                )
            job = Job(
                id=new_id(),
                user=user,
                entry_id=upload.entry_id,
                upload_id=upload.id,
                file_name=upload.original_name,
                state=QUEUED,
                created=time.time(),
                column_map=json.dumps(column_map, ensure_ascii=False),
                params=json.dumps(params, ensure_ascii=False),
            )
            s.add(job)
        return job

    def job(self, user: str | None, job_id: str) -> Job | None:
        """The job ``job_id`` of ``user`` (any user's when ``user`` is None)."""
        with self.session() as s:
            job = s.get(Job, job_id)
            return job if job is not None and (user is None or job.user == user) else None

    def jobs_of(self, user: str) -> list[Job]:
        with self.session() as s:
            rows = s.scalars(select(Job).where(Job.user == user).order_by(Job.created.desc()))
            return list(rows)

    def all_jobs(self) -> list[Job]:
        with self.session() as s:
            return list(s.scalars(select(Job).order_by(Job.created)))

    def _running_by_user(self, s: Session) -> dict[str, int]:
        """Jobs each user was served lately: running, or started within ``FAIR_WINDOW_S``."""
        since = time.time() - FAIR_WINDOW_S
        out: dict[str, int] = {}
        recent = select(Job).where(
            (Job.state == RUNNING) | ((Job.started.is_not(None)) & (Job.started >= since))
        )
        for job in s.scalars(recent):
            out[job.user] = out.get(job.user, 0) + 1
        return out

    def waiting(self) -> list[Job]:
        """Queued jobs in the order they will start (``queue_order``)."""
        with self.session() as s:
            queued = list(s.scalars(select(Job).where(Job.state == QUEUED)))
            return queue_order(queued, self._running_by_user(s))

    def running(self) -> list[Job]:
        with self.session() as s:
            return list(s.scalars(select(Job).where(Job.state == RUNNING)))

    def position(self, job_id: str) -> int | None:
        """1-based place of a waiting job in the queue (None when it does not wait)."""
        for i, job in enumerate(self.waiting(), start=1):
            if job.id == job_id:
                return i
        return None

    def set_state(self, job_id: str, target: str, **changes: Any) -> Job:
        """Move a job to ``target`` (checked against ``TRANSITIONS``) with ``changes``."""
        with self.session() as s:
            job = s.get(Job, job_id)
            if job is None:
                raise StoreError(f"Analyse introuvable : {job_id}.")
            check_transition(job.state, target)
            job.state = target
            if target == RUNNING:
                job.started = time.time()
                job.attempts += 1
            if target in FINAL:
                job.ended = time.time()
            for key, value in changes.items():
                setattr(job, key, value)
            return job

    def claim_next(self, limit: int) -> Job | None:
        """Mark the next waiting job ``running`` when fewer than ``limit`` run; return it."""
        with self.session() as s:
            if len(s.scalars(select(Job.id).where(Job.state == RUNNING)).all()) >= limit:
                return None
            queued = list(s.scalars(select(Job).where(Job.state == QUEUED)))
            order = queue_order(queued, self._running_by_user(s))
            if not order:
                return None
            job = order[0]
            job.state, job.started, job.attempts = RUNNING, time.time(), job.attempts + 1
            job.pid = None
            return job

    def recover(self) -> Recovery:
        """At start: every job left ``running`` was cut by a restart; re-queue it once."""
        requeued, interrupted, pids = [], [], []
        with self.session() as s:
            for job in s.scalars(select(Job).where(Job.state == RUNNING)):
                if job.pid:
                    pids.append(job.pid)
                job.pid = None
                if job.reruns < MAX_RERUNS:
                    job.state, job.reruns, job.message = QUEUED, job.reruns + 1, RERUN_MESSAGE
                    requeued.append(job.id)
                else:
                    job.state, job.ended, job.message = (
                        INTERRUPTED,
                        time.time(),
                        INTERRUPTED_MESSAGE,
                    )
                    interrupted.append(job.id)
        return Recovery(requeued, interrupted, pids)

    # --- erasure ---------------------------------------------------------------------------

    def delete_job(self, user: str, job_id: str) -> Job | None:
        """Remove a job row of ``user`` that is not running (None if none or running)."""
        with self.session() as s:
            job = s.get(Job, job_id)
            if job is None or job.user != user or job.state == RUNNING:
                return None
            s.delete(job)
            return job

    def delete_upload(self, user: str, upload_id: str) -> Upload | None:
        """Remove an upload row of ``user`` if no job of it remains (None otherwise)."""
        with self.session() as s:
            up = s.get(Upload, upload_id)
            if up is None or up.user != user:
                return None
            if s.scalars(select(Job.id).where(Job.upload_id == upload_id)).first():
                return None
            s.delete(up)
            return up

    def delete_user(self, user: str) -> tuple[list[Job], list[Upload], list[Job]]:
        """Remove every row of ``user`` except running jobs: (jobs, uploads, still running)."""
        with self.session() as s:
            jobs = list(s.scalars(select(Job).where(Job.user == user)))
            running = [j for j in jobs if j.state == RUNNING]
            busy_uploads = {j.upload_id for j in running}
            removed = [j for j in jobs if j.state != RUNNING]
            uploads = [
                u
                for u in s.scalars(select(Upload).where(Upload.user == user))
                if u.id not in busy_uploads
            ]
            for row in (*removed, *uploads):
                s.delete(row)
            mapping = s.scalars(select(Mapping).where(Mapping.user == user)).all()
            for row in mapping:
                s.delete(row)
            return removed, uploads, running

    def expired(self, before: float) -> tuple[list[Job], list[Upload]]:
        """Finished jobs and uploads older than ``before`` (epoch seconds), not in use."""
        with self.session() as s:
            jobs = list(
                s.scalars(select(Job).where(Job.created < before, Job.state.in_(tuple(FINAL))))
            )
            active = {
                j.upload_id for j in s.scalars(select(Job).where(Job.state.in_((QUEUED, RUNNING))))
            }
            uploads = [
                u
                for u in s.scalars(select(Upload).where(Upload.created < before))
                if u.id not in active
            ]
            return jobs, uploads

    def forget(self, jobs: list[Job], uploads: list[Upload]) -> None:
        """Delete these rows (after their files are gone)."""
        with self.session() as s:
            for job in jobs:
                row = s.get(Job, job.id)
                if row is not None:
                    s.delete(row)
            for up in uploads:
                row = s.get(Upload, up.id)
                if row is not None:
                    s.delete(row)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
