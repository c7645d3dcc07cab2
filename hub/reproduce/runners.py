"""Where the scheduler runs an analysis: a subprocess or a container, one interface.

``runner_for(settings)`` chooses from ``BIBLIO_SPAWNER``: ``DockerRunner`` in docker mode
(one container per analysis, from the demonstrator image, ``backends.docker_job_spec``),
``LocalRunner`` otherwise (a subprocess of the service, ``backends.local_command`` with the
limits of ``backends.local_limits``; kubernetes mode too, until Jobs are submitted to a
cluster). Both answer the same *blocking* calls; the scheduler makes each of them in a thread
so that the Docker engine never holds the service's event loop:

- ``start(job_id, user, folder, data) -> Run``: launch ``hub.reproduce.worker run``;
- ``exit_code(run)``: ``None`` while it runs, then its exit code;
- ``stop(run)``: kill it now (time limit, deletion by the user);
- ``cleanup(run)``: after its end (docker: its output appended to ``journal.txt``, then the
  container removed);
- ``stop_leftovers(jobs)``: when the service starts, stop what a previous service left
  running: the workers of ``jobs`` (found by pid, checked against their command line), or
  every analysis container of this hub (label ``JOB_LABEL``, name prefix
  ``BIBLIO_DOCKER_VOLUME_PREFIX``).

File ownership in docker mode (``container_user``): the job's folder is the container's only
writable mount and the upload is mounted read-only. A service running as root hands the job's
folder (mode 0700) to the image's user (uid and gid 1000, ``images/singleuser/Dockerfile``)
and lets that group read the upload (0640, still the service's), then runs the container as
1000:1000; root keeps reading and deleting everything. A service running as another user runs
the container as its own uid:gid, so both sides own the same files. Nothing is made
world-writable.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from hub.config.settings import Settings
from hub.reproduce import backends

JOURNAL = "journal.txt"
IMAGE_UID = IMAGE_GID = 1000  # NB_UID of images/singleuser/Dockerfile
DOCKER_TIMEOUT_S = 60


@dataclass
class Run:
    """One attempt of an analysis: its local process, or its container."""

    job_id: str
    folder: Path
    proc: subprocess.Popen | None = None
    container: str | None = None

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None


class Runner(Protocol):
    kind: str
    poll_interval: float

    def start(self, job_id: str, user: str, folder: Path, data: Path) -> Run: ...
    def exit_code(self, run: Run) -> int | None: ...
    def stop(self, run: Run) -> None: ...
    def cleanup(self, run: Run) -> None: ...
    def stop_leftovers(self, jobs: list[Any]) -> int: ...


# --- local mode --------------------------------------------------------------------------------


def is_worker(pid: int, job_id: str) -> bool:
    """``pid`` is still the worker of ``job_id`` (not a reused pid)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return b"hub.reproduce.worker" in cmdline and job_id.encode() in cmdline


def stop_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


class LocalRunner:
    """The worker as a subprocess of the service, in its own session (it sets its own
    memory and CPU-time limits first, ``backends.local_limits``)."""

    kind = "local"
    poll_interval = 0.25

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def start(self, job_id: str, user: str, folder: Path, data: Path) -> Run:
        with open(folder / JOURNAL, "ab") as log_file:
            proc = subprocess.Popen(
                backends.local_command(folder, data),
                cwd=folder,
                env=backends.worker_environment(),
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return Run(job_id, folder, proc=proc)

    def exit_code(self, run: Run) -> int | None:
        return run.proc.poll() if run.proc is not None else -signal.SIGKILL

    def stop(self, run: Run) -> None:
        if run.proc is not None and run.proc.poll() is None:
            stop_group(run.proc.pid)
            run.proc.wait()

    def cleanup(self, run: Run) -> None:
        """Nothing left: the process is reaped by ``exit_code``."""

    def stop_leftovers(self, jobs: list[Any]) -> int:
        stopped = 0
        for job in jobs:
            if job.pid and is_worker(job.pid, job.id):
                stop_group(job.pid)
                stopped += 1
        return stopped


# --- docker mode -------------------------------------------------------------------------------


def container_user(folder: Path, data: Path, euid: int | None = None) -> str:
    """The ``uid:gid`` the analysis container runs as, after giving it its files (see the
    module docstring)."""
    euid = os.geteuid() if euid is None else euid
    if euid != 0:
        return f"{euid}:{os.getegid()}"
    for path in (folder, *folder.rglob("*")):
        os.chown(path, IMAGE_UID, IMAGE_GID, follow_symlinks=False)
    folder.chmod(0o700)
    os.chown(data, -1, IMAGE_GID)
    data.chmod(0o640)
    return f"{IMAGE_UID}:{IMAGE_GID}"


class DockerRunner:
    """One container of the demonstrator image per analysis (``DOCKER_HOST``'s engine)."""

    kind = "docker"
    poll_interval = 1.0

    def __init__(self, settings: Settings, client: Any = None) -> None:
        self.settings = settings
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:  # first use: no engine needed to build the runner
            import docker

            self._client = docker.from_env(timeout=DOCKER_TIMEOUT_S)
        return self._client

    def name_prefix(self) -> str:
        return f"{self.settings.docker_volume_prefix}-analyse-"

    def start(self, job_id: str, user: str, folder: Path, data: Path) -> Run:
        spec = backends.docker_job_spec(
            self.settings, job_id=job_id, user=user, job_dir=folder, data=data
        )
        spec["user"] = container_user(folder, data)
        self._remove(spec["name"])  # a container of an earlier attempt, if any
        container = self.client.containers.run(**spec)
        return Run(job_id, folder, container=container.id)

    def exit_code(self, run: Run) -> int | None:
        from docker.errors import NotFound

        try:
            state = self.client.api.inspect_container(run.container)["State"]
        except NotFound:  # removed (deleted by the user)
            return -signal.SIGKILL
        if state.get("Status") in ("created", "running", "restarting", "paused"):
            return None
        return int(state.get("ExitCode", -1))

    def stop(self, run: Run) -> None:
        if run.container:
            self._remove(run.container)

    def cleanup(self, run: Run) -> None:
        """Keep the container's output in ``journal.txt`` (as in local mode), then remove it."""
        from docker.errors import APIError

        if not run.container:
            return
        with contextlib.suppress(APIError, OSError):
            output = self.client.api.logs(run.container, stdout=True, stderr=True)
            if run.folder.is_dir():  # not when deleted by the user
                with open(run.folder / JOURNAL, "ab") as journal:
                    journal.write(output or b"")
        self._remove(run.container)

    def stop_leftovers(self, jobs: list[Any]) -> int:
        """Remove every analysis container of this hub: none is ours at start."""
        found = self.client.containers.list(all=True, filters={"label": backends.JOB_LABEL})
        mine = [c for c in found if c.name.startswith(self.name_prefix())]
        for container in mine:
            self._remove(container.id)
        return len(mine)

    def _remove(self, name_or_id: str) -> None:
        from docker.errors import APIError, NotFound

        try:
            self.client.api.remove_container(name_or_id, force=True)
        except NotFound:
            pass
        except APIError as exc:  # 409: its removal is already under way
            if exc.status_code != 409:
                raise


def runner_for(settings: Settings, client: Any = None) -> LocalRunner | DockerRunner:
    """The runner of ``BIBLIO_SPAWNER``'s mode (see the module docstring)."""
    if settings.spawner == "docker":
        return DockerRunner(settings, client)
    return LocalRunner(settings)
