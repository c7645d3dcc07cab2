"""The spawners room: how a demonstrator's single-user server is started, in every mode.

- ``hub.spawners.launch``: the one-click launch URLs of a demonstrator.
- ``hub.spawners.seed``: seeding (and reset) of a demonstrator's working folder.
- ``hub.spawners.readiness``: the readiness poll (with a back-off) of the local and docker
  spawners.
- ``hub.spawners.local`` + ``hub.spawners.forkserver``: local mode, servers forked from a
  pre-imported process; ``hub.spawners.forkclient`` is the hub's side of it, and
  ``hub.spawners.ready`` the extension by which a forked server says it is up.
- ``hub.spawners.docker_config`` + ``hub.spawners.docker_spawner``: docker mode.
- ``hub.spawners.kubernetes_config``: Kubernetes mode (KubeSpawner, Zero to JupyterHub).
- ``hub.spawners.container_start``: the entry point of the demonstrator image.
- ``hub.spawners.singleuser``: ``python -m hub.spawners.singleuser``, the server command.
"""
