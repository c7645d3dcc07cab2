"""Atomic file writes: a temporary file beside the target, then ``os.replace``.

Every file biblio-ia writes for someone else to read (samples, model files, cards, secrets,
seeded notebooks, JSON records) goes through here, so that a reader never sees a
half-written file and an interrupted write leaves the previous version in place.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


@contextmanager
def atomic_path(target: Path | str, *, mode: int = 0o644) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; on success it replaces ``target``.

    The temporary file exists (empty, with ``mode``) before the caller writes to it, so a
    private file (``mode=0o600``) is never readable by others, even while being written.
    On an exception the temporary file is removed and ``target`` is left untouched.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    tmp = Path(name)
    try:
        os.fchmod(fd, mode)
        os.close(fd)
        yield tmp
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def write_text(
    target: Path | str, text: str, *, encoding: str = "utf-8", mode: int = 0o644
) -> Path:
    """Write ``text`` to ``target`` atomically; returns the target path."""
    with atomic_path(target, mode=mode) as tmp:
        tmp.write_text(text, encoding=encoding)
    return Path(target)


def write_json(target: Path | str, payload: Any, *, indent: int = 2, **dumps: Any) -> Path:
    """Write ``payload`` as UTF-8 JSON (non-ASCII kept) atomically, with a final newline."""
    text = json.dumps(payload, ensure_ascii=False, indent=indent, **dumps)
    return write_text(target, text + "\n")
