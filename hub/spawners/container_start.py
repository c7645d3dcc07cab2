"""Entry point of the demonstrator image: seed the entry's files, then run the server.

``python -m hub.spawners.container_start [command ...]`` is the image's ``ENTRYPOINT``. Inside
the container, on every start, it prepares ``$BIBLIO_HOME`` (a named volume per user and entry,
or a persistent volume claim on Kubernetes) with the entry's notebook and data baked into the
image under ``$BIBLIO_REPO_ROOT``, with the same ``hub.spawners.seed.prepare_workdir`` as the
local mode: a first start copies them into ``$BIBLIO_HOME/<entry_id>/``, a later start keeps the
user's edits, and a new reset token (``$BIBLIO_RESET_TOKEN``, from the launch link's
``reset=1``) moves the folder to ``sauvegardes/`` and seeds it again. Then it replaces itself
with the command (``python -m hub.spawners.singleuser`` by default).

The entry is ``$BIBLIO_ENTRY_ID`` (set by the spawner), else the named server's name
(``$JUPYTERHUB_SERVER_NAME``); a server that is not an entry (a joint workspace) gets no
seeding. The ``BIBLIO_*`` variables are read with ``hub.config.settings.Settings`` (group
"Inside a demonstrator's container" of ``docs/configuration.md``).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence

from hub.config.settings import Settings
from models.entries import is_entry_id

DEFAULT_COMMAND = ("python", "-m", "hub.spawners.singleuser")
SEED_MARKER = ".biblio-seed.json"  # hub.spawners.seed.MARKER_NAME (a unit test keeps them equal)


def entry_for(env: Mapping[str, str], settings: Settings | None = None) -> str | None:
    """The entry id this server serves (``BIBLIO_ENTRY_ID``, else the server's name), or None
    (a joint workspace's ``ws-<slug>`` is no entry: its folder comes from the hub)."""
    s = settings or Settings.from_env(env)
    name = s.entry_id or env.get("JUPYTERHUB_SERVER_NAME", "").strip() or None
    return name if is_entry_id(name) else None


def already_seeded(s: Settings, entry_id: str) -> bool:
    """True when a plain relaunch has nothing to do (seeded, no reset asked).

    A plain file check, before importing ``hub.spawners.seed`` and the entry catalogue at all.
    """
    return not s.reset_token and (s.home / entry_id / SEED_MARKER).is_file()


def prepare(env: Mapping[str, str]):
    """Seed (or reset) the entry's folder described by ``env``; ``None`` if nothing to do."""
    s = Settings.from_env(env)
    entry_id = entry_for(env, s)
    if not entry_id or already_seeded(s, entry_id):
        return None
    from hub.spawners.seed import RESET_OPTION, prepare_workdir

    options = {RESET_OPTION: s.reset_token} if s.reset_token else None
    return prepare_workdir(entry_id, s.home, s.repo_root, options)


def main(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> None:
    env = os.environ if env is None else env
    command = list(argv if argv is not None else sys.argv[1:]) or list(DEFAULT_COMMAND)
    try:
        result = prepare(env)
    except Exception as exc:  # the server starts anyway; the message is in the server's log
        print(f"biblio-ia : préparation du démonstrateur impossible : {exc}", file=sys.stderr)
    else:
        if result is not None and result.copied:
            what = "réinitialisé" if result.backup else "préparé"
            print(f"biblio-ia : {result.workdir} {what} ({len(result.copied)} fichiers)")
    sys.stdout.flush()
    os.execvp(command[0], command)


if __name__ == "__main__":
    main()
