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
  the image's entry point (``hub.container_start``) seeds or resets the folder with
  ``hub.seed.prepare_workdir``, exactly as the local mode does on the host.
- **Erasure** (GDPR): ``delete_forever`` — which JupyterHub calls when a named server or a user
  is deleted — removes the server's volume; for the default server (deleted only with its
  user) it removes every volume labelled with the user.
- **Readiness**: ``start`` returns once the server answers, so the hub's first check succeeds
  (same idea as ``hub.spawner.BiblioLocalSpawner``).
"""

from __future__ import annotations

import asyncio
import socket

from docker.errors import APIError, NotFound
from dockerspawner import DockerSpawner
from traitlets import Dict, Float, Int, Unicode

from hub.readiness import wait_until_answering

LABEL_MANAGED = "org.biblio-ia.managed"
LABEL_USER = "org.biblio-ia.user"
LABEL_ENTRY = "org.biblio-ia.entry"


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port free on ``host`` right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


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
        0.1, help="Seconds between two readiness checks inside start()."
    ).tag(config=True)

    volume_remove_retries = Int(
        20, help="Attempts to remove a volume still held by a container being removed."
    ).tag(config=True)

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
        if self.name:
            env["BIBLIO_ENTRY_ID"] = self.name
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

    async def start(self):
        volume = await self.ensure_volume()
        self.volumes = {**self.volumes, volume: self.work_dir}
        extra = self.extra_create_kwargs if isinstance(self.extra_create_kwargs, dict) else {}
        labels = {**extra.get("labels", {}), **self.labels()}
        self.extra_create_kwargs = {**extra, "labels": labels}
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
            alive=alive,
            check_alive_every=10,
        )

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
