"""Entry point of the single-user servers: ``python -m hub.spawners.singleuser``.

It is ``jupyterhub.singleuser.main`` started faster: the slow optional imports of
``jsonschema`` are blocked first (``hub.shared.block_slow_optional_imports``). The process is
named after its user and server (``biblio-ia singleuser <user>/<server>`` in ``ps``), as the
servers forked by ``hub.spawners.forkserver`` are.
"""

from __future__ import annotations

import os
import sys

from hub.shared import block_slow_optional_imports


def main() -> None:
    block_slow_optional_imports()
    from hub.spawners.forkclient import server_title
    from hub.spawners.forkserver import set_title

    user = os.environ.get("JUPYTERHUB_USER", "")
    if user:
        set_title(server_title(user, os.environ.get("JUPYTERHUB_SERVER_NAME", "")))
    from jupyterhub.singleuser import main as singleuser_main

    sys.exit(singleuser_main())


if __name__ == "__main__":
    main()
