"""The hub's SQLite database, tuned so that a burst of launches does not wait on the disk.

JupyterHub commits its database several times per launch (server, token, OAuth client,
state, activity), from its single event loop. In SQLite's default mode every commit waits
for the disk twice (``fsync`` of the rollback journal and of the file): measured here, 60 %
of the hub's time during a burst of fifty launches, while every other request waited.
``sqlite_kwargs`` gives JupyterHub (``c.JupyterHub.db_kwargs``) a connection factory that
switches the file to write-ahead logging with ``synchronous=NORMAL``: a commit is an append
to the log, synced at checkpoints. The database cannot be corrupted that way; a power cut may
lose the last commits (a launch or an activity stamp), which is acceptable for the demo and
test hubs that use SQLite — production uses PostgreSQL (``BIBLIO_DB_URL``), left untouched.
"""

from __future__ import annotations

import functools
import sqlite3
from typing import Any

from sqlalchemy.engine import make_url


def sqlite_connection(database: str) -> sqlite3.Connection:
    """A connection to ``database`` in WAL mode with ``synchronous=NORMAL``."""
    conn = sqlite3.connect(database, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    return conn


def sqlite_kwargs(db_url: str) -> dict[str, Any]:
    """``db_kwargs`` for a file SQLite URL; nothing for any other database."""
    url = make_url(db_url)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return {}
    return {"creator": functools.partial(sqlite_connection, url.database)}
