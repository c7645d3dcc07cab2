"""Files of the reproduce service: each user's folder, uploads written as they arrive,
spreadsheets turned into CSV, a preview of the first rows, and erasure.

Layout under ``BIBLIO_REPRO_DIR``: ``users/<key>/uploads/<upload id>.csv[.gz]`` and
``users/<key>/jobs/<job id>/`` (``job.json``, ``progress.json``, ``resultats/``). ``<key>`` is
derived from the user name (letters kept, plus a hash), ids are random: the name of the
user's file is only ever shown, never used in a path.

``UploadWriter`` receives the body in chunks (tornado's ``stream_request_body``) and writes
them to a ``.part`` file, refusing past the size limit: the service never holds a whole file
in memory. ``finish_upload`` recognises the format from the content (gzip, xlsx, ods, else
text) and converts a spreadsheet into a CSV beside it, row by row for ``.xlsx``.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import hashlib
import io
import os
import re
import shutil
import zipfile
from pathlib import Path
from typing import Any

from models.errors import BiblioError

PREVIEW_ROWS = 8
HEAD_BYTES = 256 * 1024
ODS_MIME = b"application/vnd.oasis.opendocument.spreadsheet"


class UploadError(BiblioError):
    """A refused upload (French message)."""


def user_key(user: str) -> str:
    """Folder name of ``user``: safe letters of the name plus a hash (two names never meet)."""
    safe = re.sub(r"[^a-z0-9]+", "-", user.lower()).strip("-")[:40] or "u"
    digest = hashlib.sha256(user.encode("utf-8")).hexdigest()[:12]
    return f"{safe}-{digest}"


def user_dir(base: Path, user: str) -> Path:
    return Path(base) / "users" / user_key(user)


def uploads_dir(base: Path, user: str) -> Path:
    return user_dir(base, user) / "uploads"


def job_dir(base: Path, user: str, job_id: str) -> Path:
    if not re.fullmatch(r"[0-9a-f]{32}", job_id):
        raise UploadError("Identifiant d'analyse invalide.")
    return user_dir(base, user) / "jobs" / job_id


def human_size(n: int) -> str:
    for unit, factor in (("Go", 1 << 30), ("Mo", 1 << 20), ("ko", 1 << 10)):
        if n >= factor:
            return f"{n / factor:.1f} {unit}".replace(".", ",")
    return f"{n} octets"


def too_big_message(limit: int) -> str:
    return (
        f"Fichier trop volumineux : la limite est de {human_size(limit)}. Réduisez la période "
        "ou le nombre de colonnes du fichier (ou compressez-le en .csv.gz), puis recommencez."
    )


class UploadWriter:
    """Write an upload as it arrives into ``<folder>/<upload id>.part`` (size-limited)."""

    def __init__(self, folder: Path, upload_id: str, limit: int) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self.upload_id = upload_id
        self.limit = limit
        self.size = 0
        self.part = folder / f"{upload_id}.part"
        self._file = open(self.part, "wb")  # noqa: SIM115 -- closed in close()/abort()
        self.refused = False

    def write(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.refused:
            return
        if self.size > self.limit:
            self.refuse()
            return
        self._file.write(chunk)

    def refuse(self) -> None:
        """Drop what was written and whatever still comes."""
        self.refused = True
        self.abort()

    def close(self) -> Path:
        self._file.close()
        return self.part

    def abort(self) -> None:
        if not self._file.closed:
            self._file.close()
        self.part.unlink(missing_ok=True)


def sniff_format(path: Path) -> str:
    """``"gzip"``, ``"xlsx"``, ``"ods"`` or ``"text"``, from the content (never the name)."""
    with open(path, "rb") as f:
        head = f.read(8)
    if head.startswith(b"\x1f\x8b"):
        return "gzip"
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(path) as z:
                names = set(z.namelist())
                if "xl/workbook.xml" in names:
                    return "xlsx"
                if "mimetype" in names and z.read("mimetype").strip() == ODS_MIME:
                    return "ods"
        except zipfile.BadZipFile:
            pass
        raise UploadError(
            "Ce fichier compressé (zip) n'est ni un classeur Excel (.xlsx) ni un classeur "
            "OpenDocument (.ods). Envoyez un fichier CSV, .csv.gz, .xlsx ou .ods."
        )
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise UploadError(
            "Ce classeur est au format Excel ancien (.xls) : enregistrez-le en .xlsx ou en CSV."
        )
    return "text"


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def xlsx_to_csv(source: Path, target: Path) -> None:
    """The first sheet of an ``.xlsx`` as a CSV, read and written row by row."""
    from openpyxl import load_workbook

    handle = open(source, "rb")  # noqa: SIM115 -- a file object: openpyxl checks names
    try:
        book = load_workbook(handle, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - any reader failure is a user-file problem
        handle.close()
        raise UploadError(f"Le classeur Excel ne peut pas être lu : {exc}.") from exc
    try:
        sheet = book.worksheets[0]
        with open(target, "w", encoding="utf-8", newline="") as out:
            writer = csv.writer(out)
            for row in sheet.iter_rows(values_only=True):
                cells = [_cell_text(v) for v in row]
                if any(cells):
                    writer.writerow(cells)
    finally:
        book.close()
        handle.close()


def ods_to_csv(source: Path, target: Path) -> None:
    """The first sheet of an ``.ods`` as a CSV (pandas' odf reader)."""
    import pandas as pd

    try:
        frame = pd.read_excel(source, engine="odf", dtype=str, keep_default_na=False, header=None)
    except Exception as exc:  # noqa: BLE001
        raise UploadError(f"Le classeur OpenDocument ne peut pas être lu : {exc}.") from exc
    frame = frame[(frame != "").any(axis=1)]
    frame.to_csv(target, index=False, header=False, encoding="utf-8")


def finish_upload(part: Path) -> tuple[Path, str]:
    """Give the uploaded ``.part`` its final name (spreadsheets converted): (path, format)."""
    base = part.with_suffix("")
    try:
        kind = sniff_format(part)
        if kind == "gzip":
            final = base.with_name(base.name + ".csv.gz")
            os.replace(part, final)
        elif kind == "text":
            final = base.with_name(base.name + ".csv")
            os.replace(part, final)
        else:
            final = base.with_name(base.name + ".csv")
            (xlsx_to_csv if kind == "xlsx" else ods_to_csv)(part, final)
            part.unlink(missing_ok=True)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    return final, kind


def head_bytes(path: Path, limit: int = HEAD_BYTES) -> bytes:
    """The first ``limit`` bytes of the (decompressed) file, cut after the last full line."""
    opener = gzip.open if path.name.endswith(".gz") else open
    try:
        with opener(path, "rb") as f:
            data = f.read(limit)
            more = bool(f.read(1))
    except (OSError, EOFError) as exc:
        raise UploadError(f"Le fichier ne peut pas être lu : {exc}.") from exc
    if more and b"\n" in data:
        data = data[: data.rindex(b"\n") + 1]
    return data


def preview(path: Path, rows: int = PREVIEW_ROWS) -> tuple[list[str], list[list[str]]]:
    """The file's column names (as the readers clean them) and its first ``rows`` rows."""
    from models.io import read_table

    data = head_bytes(path)
    frame = read_table(io.BytesIO(data), skip_rows_after_header=0)
    columns = [str(c) for c in frame.columns]
    body = []
    for _, row in frame.head(rows).iterrows():
        body.append(["" if _missing(v) else str(v) for v in row.tolist()])
    return columns, body


def _missing(value: Any) -> bool:
    try:
        return value is None or value != value
    except Exception:  # noqa: BLE001
        return False


def remove_tree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
