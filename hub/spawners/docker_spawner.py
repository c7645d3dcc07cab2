"""Docker-mode spawner: one container per demonstrator, one named volume per user and entry.

``BiblioDockerSpawner`` is DockerSpawner with what biblio-ia needs:

- **Networking** both ways. With ``network_name = "host"`` (the only mode usable on a host
  that forbids bridge traffic) every server gets a free port of the host, listens on
  ``127.0.0.1:<port>`` and is reported there. On any other Docker network (a normal host, the
  hub itself in a container) the server listens on ``0.0.0.0:8888`` inside its container and
  is reached at the container's address on that network (DockerSpawner's own behaviour).
- **Work folder**: the named volume ``<prefix>-<user>--<entry>`` mounted on ``work_dir``,
  created with labels (``org.biblio-ia.user`` / ``.entry``) so that it can be found again; the
  container is removed on stop, the volume stays.
- **Seeding**: the entry id and the one-time reset token go to the container's environment;
  the image's entry point (``hub.spawners.container_start``) seeds or resets the folder with
  ``hub.spawners.seed.prepare_workdir``, exactly as the local mode does on the host.
- **Joint workspaces** (``ws-<slug>``, ``hub.workspaces``): no named volume; the workspace's
  folder, made on the hub's side by the ``pre_spawn_hook``, is bind-mounted on ``work_dir``
  (``workspace_folder``) and is the container's only mount; no seeding; the container's
  working directory is its home, so that jupyter-collaboration's cache stays out of the
  folder; ``stop_timeout`` bounds ``docker stop`` (SIGTERM, then SIGKILL).
- **Erasure** (GDPR): ``delete_forever`` — which JupyterHub calls when a named server or a user
  is deleted — removes the server's volume; for the default server (deleted only with its
  user) it removes every volume labelled with the user.
- **Readiness**: ``start`` returns once the server answers (polled with a back-off,
  ``hub.spawners.readiness``), so the hub's first check succeeds.
- **Calls side by side**: DockerSpawner sends every call to the engine through one shared
  thread, so twenty launches create and start their containers one after the other and a
  hub stopping with twenty servers stops them one by one (each ``docker stop`` waits for its
  server to exit). Here the shared pool has ``api_threads`` threads.
"""

from __future__ import annotations

import asyncio
import contextlib
from concurrent.futures import ThreadPoolExecutor

from docker.errors import APIError, NotFound
from dockerspawner import DockerSpawner
from traitlets import Dict, Float, Int, Unicode

from hub.shared import free_port
from hub.spawners.readiness import wait_until_answering

LABEL_MANAGED = "org.biblio-ia.managed"
LABEL_USER = "org.biblio-ia.user"
LABEL_ENTRY = "org.biblio-ia.entry"


def volume_name(prefix: str, escaped_user: str, server_name: str) -> str:
    """``<prefix>-<escaped user>--<entry>``, or ``<prefix>-<escaped user>`` (default server).

    One-to-one: an escaped user name never contains ``--`` nor ends with ``-``, and an entry
    id (``[a-z][a-z0-9_]*``) never contains ``-``. The labels remain the source of truth.
    """
    return f"{prefix}-{escaped_user}--{server_name}" if server_name else f"{prefix}-{escaped_user}"


def object_labels(username: str, server_name: str) -> dict[str, str]:
    """Labels set on a demonstrator's container and volume."""
    return {LABEL_MANAGED: "true", LABEL_USER: username, LABEL_ENTRY: server_name}


class BiblioDockerSpawner(DockerSpawner):
    """DockerSpawner with host-network ports, a labelled volume per entry, and erasure."""

    work_dir = Unicode(
        "/home/jovyan/work", help="Where the server's named volume is mounted (BIBLIO_HOME)."
    ).tag(config=True)

    volume_prefix = Unicode("biblio-ia", help="Prefix of the work volumes' names.").tag(config=True)

    volume_driver_opts = Dict(
        help="``driver_opts`` of the work volumes (e.g. a size limit where the driver has one)."
    ).tag(config=True)

    host_ip_for_hub = Unicode(
        "127.0.0.1", help="With host networking: the address servers listen on and are reached at."
    ).tag(config=True)

    ready_poll_interval = Float(
        0.1, help="First wait between two readiness checks inside start() (then growing)."
    ).tag(config=True)
    ready_poll_max_interval = Float(
        1.0, help="Longest wait between two readiness checks inside start()."
    ).tag(config=True)

    api_threads = Int(
        8,
        help="Threads of the pool shared by every spawner for calls to the Docker engine "
        "(BIBLIO_DOCKER_API_THREADS).",
    ).tag(config=True)

    container_gone_checks = Int(
        100, help="Checks, 0.1 s apart, that a removed container is gone before going on."
    ).tag(config=True)

    stop_timeout = Int(
        None,
        allow_none=True,
        help="Seconds ``docker stop`` waits after SIGTERM before SIGKILL (the container's "
        "StopTimeout; None: the engine's 10 s). Set for workspaces by hub.workspaces.spawn.",
    )

    workspace_folder = Unicode(
        "", help="Hub-side folder of a joint workspace, bind-mounted on work_dir (set by the hook)."
    )

    workspace_user = Unicode(
        "", help="uid:gid a workspace's container runs as ('' : the image's user), set by the hook."
    )

    volume_remove_retries = Int(
        20, help="Attempts to remove a volume still held by a container being removed."
    ).tag(config=True)

    @property
    def executor(self) -> ThreadPoolExecutor:
        """One pool for every spawner of the class, ``api_threads`` wide."""
        cls = type(self)
        if cls._executor is None:
            cls._executor = ThreadPoolExecutor(
                max(1, self.api_threads), thread_name_prefix="biblio-docker"
            )
        return cls._executor

    @property
    def host_network(self) -> bool:
        return self.network_name == "host"

    @property
    def work_volume(self) -> str:
        return volume_name(self.volume_prefix, self.escaped_name, self.name)

    def labels(self) -> dict[str, str]:
        return object_labels(self.user.name, self.name)

    # -- environment -------------------------------------------------------------------------

    def get_env(self):
        env = super().get_env()
        env["BIBLIO_HOME"] = self.work_dir
        if self.name and not self.workspace_folder:
            env["BIBLIO_ENTRY_ID"] = self.name
        if self.workspace_user:  # not the image's user: its home is not writable
            env["HOME"] = "/tmp"
        token = (self.user_options or {}).get("reset")
        if token:
            env["BIBLIO_RESET_TOKEN"] = str(token)
        return env

    # -- start -------------------------------------------------------------------------------

    async def ensure_volume(self) -> str:
        """Create the work volume with its labels if it does not exist; return its name."""
        name = self.work_volume
        try:
            await self.docker("inspect_volume", name)
        except NotFound:
            await self.docker(
                "create_volume",
                name=name,
                labels=self.labels(),
                driver_opts=dict(self.volume_driver_opts) or None,
            )
            self.log.info("Created volume %s for %s", name, self._log_name)
        return name

    def workspace_create_kwargs(self) -> dict:
        """Container options of a workspace: its folder the only mount, home as working dir."""
        self.volumes = {self.workspace_folder: {"bind": self.work_dir, "mode": "rw"}}
        kwargs: dict = {"working_dir": "/tmp" if self.workspace_user else "/home/jovyan"}
        if self.workspace_user:
            kwargs["user"] = self.workspace_user
        return kwargs

    async def start(self):
        extra = dict(self.extra_create_kwargs) if isinstance(self.extra_create_kwargs, dict) else {}
        if self.workspace_folder:
            extra.update(self.workspace_create_kwargs())
        else:
            volume = await self.ensure_volume()
            self.volumes = {**self.volumes, volume: self.work_dir}
        labels = {**extra.get("labels", {}), **self.labels()}
        self.extra_create_kwargs = {**extra, "labels": labels}
        if self.stop_timeout is not None:
            self.extra_create_kwargs["stop_timeout"] = int(self.stop_timeout)
        if self.host_network:
            # No port mapping on the host network: the server binds a free port itself.
            self.use_internal_ip = True
            self.ip = self.host_ip_for_hub
            self.port = free_port(self.host_ip_for_hub)
        ip, port = await super().start()
        await self.wait_until_answering(ip, port)
        return ip, port

    async def get_ip_and_port(self):
        if self.host_network:
            return self.host_ip_for_hub, self.port
        return await super().get_ip_and_port()

    async def wait_until_answering(self, ip: str, port: int) -> bool:
        """Poll the server's ``api`` URL until it answers (< 500) or its container exits."""

        async def alive() -> bool:
            return await self.poll() is None

        return await wait_until_answering(
            f"http://{ip}:{int(port)}{self.server.base_url}api",
            timeout=self.http_timeout,
            interval=self.ready_poll_interval,
            max_interval=self.ready_poll_max_interval,
            alive=alive,
            check_alive_every=4,
        )

    # -- stop --------------------------------------------------------------------------------

    async def remove_object(self):
        """Remove the container and return once the engine no longer has it.

        DockerSpawner's removal returns at once when the engine answers 409 (a removal
        already in progress): a relaunch right after a stop then met the old container's
        name still taken (409 at creation, a 500 for the user).
        """
        await super().remove_object()
        object_id = self.object_id
        for attempt in range(self.container_gone_checks):
            try:
                await self.docker("inspect_container", object_id)
            except NotFound:
                return
            if attempt % 10 == 9:  # still there after a second: ask again, forcefully
                with contextlib.suppress(APIError):
                    await self.docker("remove_container", object_id, v=True, force=True)
            await asyncio.sleep(0.1)
        self.log.warning("Container %s still present after its removal", object_id[:7])

    # -- erasure -----------------------------------------------------------------------------

    async def remove_volume(self, name: str) -> bool:
        """Remove volume ``name``, waiting for a container being removed; False if absent."""
        for attempt in range(self.volume_remove_retries):
            try:
                await self.docker("remove_volume", name)
                self.log.info("Removed volume %s", name)
                return True
            except NotFound:
                return False
            except APIError as error:
                if error.status_code != 409 or attempt == self.volume_remove_retries - 1:
                    raise
                await asyncio.sleep(0.25)  # still in use by a container being removed
        return False

    async def user_volumes(self) -> list[str]:
        """Names of every work volume labelled with this spawner's user."""
        found = await self.docker("volumes", filters={"label": [f"{LABEL_USER}={self.user.name}"]})
        return sorted(v["Name"] for v in (found or {}).get("Volumes") or [])

    async def delete_forever(self):
        """Erase the server's volume; the default server's erasure takes all the user's."""
        names = {self.work_volume}
        if not self.name:
            names.update(await self.user_volumes())
        for name in sorted(names):
            await self.remove_volume(name)
