"""Entry point of the demonstrator image: seed the entry's files, then run the server.

``python -m hub.container_start [command ...]`` is the image's ``ENTRYPOINT``. Inside the
container, on every start, it prepares ``$BIBLIO_HOME`` (a named volume per user and entry, or a
persistent volume claim on Kubernetes) with the entry's notebook and data baked into the image
under ``$BIBLIO_REPO_ROOT``, with the same ``hub.seed.prepare_workdir`` as the local mode: a
first start copies them into ``$BIBLIO_HOME/<entry_id>/``, a later start keeps the user's
edits, and a new reset token (``$BIBLIO_RESET_TOKEN``, from the launch link's ``reset=1``)
moves the folder to ``sauvegardes/`` and seeds it again. Then it replaces itself with the
command (``python -m hub.singleuser`` by default).

The entry is ``$BIBLIO_ENTRY_ID`` (set by the spawner), else the named server's name
(``$JUPYTERHUB_SERVER_NAME``); a server that is not an entry gets no seeding.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

DEFAULT_COMMAND = ("python", "-m", "hub.singleuser")
DEFAULT_HOME = "/home/jovyan/work"
DEFAULT_REPO_ROOT = "/opt/biblio-ia"
SEED_MARKER = ".biblio-seed.json"  # hub.seed.MARKER_NAME (a unit test keeps them equal)


def entry_for(env: Mapping[str, str]) -> str | None:
    """The entry id this server serves, from the environment, or None."""
    for name in ("BIBLIO_ENTRY_ID", "JUPYTERHUB_SERVER_NAME"):
        value = env.get(name, "").strip()
        if value:
            return value
    return None


def already_seeded(env: Mapping[str, str], entry_id: str) -> bool:
    """True when a plain relaunch has nothing to do (seeded, no reset asked).

    A plain file check, before importing ``hub.seed`` and the entry catalogue at all.
    """
    if env.get("BIBLIO_RESET_TOKEN", "").strip():
        return False
    return (Path(env.get("BIBLIO_HOME", DEFAULT_HOME)) / entry_id / SEED_MARKER).is_file()


def prepare(env: Mapping[str, str]):
    """Seed (or reset) the entry's folder described by ``env``; ``None`` if nothing to do."""
    entry_id = entry_for(env)
    if not entry_id or already_seeded(env, entry_id):
        return None
    from hub.seed import RESET_OPTION, prepare_workdir

    token = env.get("BIBLIO_RESET_TOKEN", "").strip()
    return prepare_workdir(
        entry_id,
        Path(env.get("BIBLIO_HOME", DEFAULT_HOME)),
        Path(env.get("BIBLIO_REPO_ROOT", DEFAULT_REPO_ROOT)),
        {RESET_OPTION: token} if token else None,
    )


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
