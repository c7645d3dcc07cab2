"""Readers for real French open-data tables (CSV exports of local governments).

``read_table`` copes with what real files do: unknown encoding (UTF-8, UTF-8 with BOM,
cp1252/latin-1), separator ``;`` ``,`` tab or ``|``, decimal comma, thousands spaces, missing
markers (``NA``, ``n/d``, ``-``, empty...), headers with accents, spaces or a units row under
them, dates ``YYYY-MM-DD`` or ``DD/MM/YYYY``, text ids with leading zeros, and column names that
differ from ours (``aliases`` known by the entry, ``column_map`` given by the user).

Every value that cannot be read is kept as missing and recorded in
``df.attrs["read_problems"]`` (row, column, raw value) so that ``models.validation`` reports it
precisely; a file that cannot be read at all raises ``DataReadError`` with a French message.
"""

from __future__ import annotations

import csv
import gzip
import io
import re
import unicodedata
import zlib
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from models.errors import DataReadError

DEFAULT_MISSING = frozenset(
    {
        "",
        "na",
        "n/a",
        "n.a.",
        "nan",
        "n/d",
        "nd",
        "n.d.",
        "-",
        "--",
        "null",
        "none",
        "#n/a",
        "#na",
        "?",
    }
)
"""Missing-value markers (compared case-insensitively after stripping)."""

SEPARATORS = (";", ",", "\t", "|")
_SEPARATOR_NAMES = {";": "point-virgule", ",": "virgule", "\t": "tabulation", "|": "barre"}

_NUMBER = re.compile(r"^[+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+)(?:[eE][+-]?\d+)?$")
_DOT_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(?:\.\d{3})+,\d+$")
_SPACES = re.compile(r"[ \u00a0\u202f\u2009]")
_TZ_SUFFIX = re.compile(r"(?:Z|[+-]\d{2}:?\d{2})$")
_DATE_LIKE = re.compile(r"^\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}")

_DATE_FORMATS = (
    # (regex on the stripped value, strptime format)
    (re.compile(r"^\d{4}-\d{2}-\d{2}$"), "%Y-%m-%d"),
    (re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d{1,2}:\d{2}$"), "ISO8601"),
    (re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d{1,2}:\d{2}:\d{2}(?:\.\d+)?$"), "ISO8601"),
    (re.compile(r"^\d{1,2}/\d{1,2}/\d{4}$"), "%d/%m/%Y"),
    (re.compile(r"^\d{1,2}/\d{1,2}/\d{4} \d{1,2}:\d{2}$"), "%d/%m/%Y %H:%M"),
    (re.compile(r"^\d{1,2}/\d{1,2}/\d{4} \d{1,2}:\d{2}:\d{2}$"), "%d/%m/%Y %H:%M:%S"),
    (re.compile(r"^\d{1,2}-\d{1,2}-\d{4}$"), "%d-%m-%Y"),
    (re.compile(r"^\d{1,2}\.\d{1,2}\.\d{4}$"), "%d.%m.%Y"),
    (re.compile(r"^\d{4}/\d{2}/\d{2}$"), "%Y/%m/%d"),
    (re.compile(r"^\d{1,2}/\d{1,2}/\d{2}$"), "%d/%m/%y"),
)

_SNIFF_LINES = 60
_SNIFF_CHARS = 65_536
"""Each sniffed line is cut there (the csv module refuses fields over 128 KiB)."""
_GZIP_MAGIC = b"\x1f\x8b"


# ---------------------------------------------------------------------------------------------
# Names


def normalise_name(name: Any) -> str:
    """Accent-, case-, space- and punctuation-insensitive form of a column name.

    ``" Numéro de  Boucle "`` and ``"numero_de_boucle"`` both give ``"numero_de_boucle"``.
    """
    text = unicodedata.normalize("NFKD", str(name))
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = text.replace("œ", "oe").replace("Œ", "oe").lower()
    text = re.sub(r"[^a-z0-9]+", "_", text)
    return text.strip("_")


def _clean_header(name: Any, position: int) -> str:
    text = str(name).replace("\ufeff", "").strip().strip('"').strip()
    text = re.sub(r"\s+", " ", text)
    return text or f"colonne_{position + 1}"


def apply_column_names(
    df: pd.DataFrame,
    *,
    aliases: Mapping[str, Iterable[str]] | None = None,
    column_map: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Rename ``df``'s columns: the user's ``column_map`` first, then the known ``aliases``.

    ``column_map`` keys are matched exactly, then on ``normalise_name``; a key that matches no
    column raises ``DataReadError`` listing the file's columns. ``aliases`` maps our name to its
    known variants; our name itself is also matched on its normalised form.
    """
    columns = [str(c) for c in df.columns]
    by_norm: dict[str, list[str]] = {}
    for col in columns:
        by_norm.setdefault(normalise_name(col), []).append(col)
    rename: dict[str, str] = {}

    for theirs, ours in (column_map or {}).items():
        theirs, ours = str(theirs), str(ours)
        if theirs in columns:
            match = theirs
        elif len(by_norm.get(normalise_name(theirs), [])) == 1:
            match = by_norm[normalise_name(theirs)][0]
        elif ours in columns and theirs == ours:
            continue
        else:
            listing = ", ".join(f"« {c} »" for c in columns)
            raise DataReadError(
                f"La correspondance de colonnes mentionne « {theirs} », mais le fichier ne "
                f"contient pas de colonne de ce nom. Colonnes du fichier : {listing}."
            )
        rename[match] = ours

    taken = set(rename.values())
    for ours, variants in (aliases or {}).items():
        if ours in taken or (ours in columns and ours not in rename):
            taken.add(ours)
            continue
        wanted = {normalise_name(ours), *(normalise_name(v) for v in variants)}
        for col in columns:
            if col in rename or col == ours:
                if col == ours:
                    taken.add(ours)
                    break
                continue
            if normalise_name(col) in wanted:
                rename[col] = ours
                taken.add(ours)
                break

    new_names = [rename.get(c, c) for c in columns]
    duplicates = sorted({n for n in new_names if new_names.count(n) > 1})
    if duplicates:
        details = "; ".join(
            f"« {d} » ← "
            + ", ".join(f"« {c} »" for c, n in zip(columns, new_names, strict=True) if n == d)
            for d in duplicates
        )
        raise DataReadError(
            "Plusieurs colonnes du fichier portent le même nom après correspondance : "
            f"{details}. Précisez la correspondance de colonnes (column_map)."
        )
    out = df.copy()
    out.columns = new_names
    return out


# ---------------------------------------------------------------------------------------------
# Values


def _strip_and_mask(values: pd.Series, markers: frozenset[str]) -> tuple[pd.Series, pd.Series]:
    """Stripped text values (``NaN`` where missing) and the missing mask, fast on big columns."""
    arr = values.to_numpy(dtype=object, na_value=None)
    cleaned = [v.strip() if isinstance(v, str) else None for v in arr]
    missing = np.fromiter(
        (v is None or v.lower() in markers for v in cleaned), dtype=bool, count=len(cleaned)
    )
    text = pd.Series(cleaned, index=values.index, dtype=object).mask(missing, np.nan)
    return text, pd.Series(missing, index=values.index)


def _to_numbers(text: pd.Series, missing: pd.Series) -> pd.Series | None:
    """Float column if every present value is a number (decimal comma ok) and no value is an
    id with a leading zero (``0674``); else ``None`` (the column stays text)."""
    present = text[~missing]
    if present.empty:
        return None
    fast = pd.to_numeric(present, errors="coerce")
    slow = fast.isna() | np.isinf(fast)
    if slow.any():
        converted = _numeric_or_none(present[slow])
        if converted is None:
            return None
        fast = fast.where(~slow, converted)
    if any(len(v) > 1 and v[0] == "0" and v.isdigit() for v in present):
        return None
    out = pd.Series(np.nan, index=text.index, dtype="float64")
    out[~missing] = fast.astype("float64")
    return out


def _missing_mask(values: pd.Series, markers: frozenset[str]) -> pd.Series:
    as_text = values.astype("string").str.strip().str.lower()
    return values.isna() | as_text.isin(markers).fillna(True)


def _to_number_text(values: pd.Series) -> pd.Series:
    """Strip thousands spaces, turn ``1.234,5`` and ``3,5`` into ``1234.5`` and ``3.5``."""
    text = values.astype("string").str.strip().str.replace(_SPACES, "", regex=True)
    dot_thousands = text.str.match(_DOT_THOUSANDS).fillna(False)
    text = text.where(~dot_thousands, text.str.replace(".", "", regex=False))
    return text.str.replace(",", ".", regex=False)


def _numeric_or_none(values: pd.Series) -> pd.Series | None:
    """The column as numbers if every present value is a number, else ``None``."""
    if values.empty:
        return None
    head = values.iloc[:50]
    if not bool(_to_number_text(head).str.match(_NUMBER).all()):
        return None  # quick reject of text columns
    text = _to_number_text(values)
    if not bool(text.str.match(_NUMBER).all()):
        return None
    return pd.to_numeric(text, errors="coerce")


def _in_range(parsed: pd.Series) -> pd.Series:
    """Dates pandas can hold in nanoseconds (years 1677 to 2262); the others (year 2915,
    a typing slip) become ``NaT``, reported as unreadable like any other bad date."""
    inside = (parsed >= pd.Timestamp.min) & (parsed <= pd.Timestamp.max)
    return parsed.where(inside).astype("datetime64[ns]")


def parse_dates(series: pd.Series) -> pd.Series:
    """Parse dates written ``YYYY-MM-DD``, ``DD/MM/YYYY`` (optionally with a time) and variants.

    Returns a ``datetime64`` series (naive, Europe/Paris wall time for values with an offset);
    values that match no known format become ``NaT``.
    """
    if pd.api.types.is_datetime64_any_dtype(series):
        if getattr(series.dt, "tz", None) is not None:
            return series.dt.tz_convert("Europe/Paris").dt.tz_localize(None)
        return series
    text = series.astype("string").str.strip()
    result = pd.Series(pd.NaT, index=series.index, dtype="datetime64[ns]")
    todo = text.notna() & (text != "")
    tz_mask = todo & text.str.contains(_TZ_SUFFIX, regex=True).fillna(False)
    if tz_mask.any():
        parsed = pd.to_datetime(text[tz_mask], format="ISO8601", utc=True, errors="coerce")
        result.loc[tz_mask] = _in_range(parsed.dt.tz_convert("Europe/Paris").dt.tz_localize(None))
        todo &= ~tz_mask
    for pattern, fmt in _DATE_FORMATS:
        if not todo.any():
            break
        match = todo & text.str.match(pattern).fillna(False)
        if match.any():
            parsed = pd.to_datetime(text[match], format=fmt, errors="coerce")
            result.loc[match] = _in_range(parsed)
            todo &= ~match
    return result


def wide_to_long(
    df: pd.DataFrame,
    id_columns: Sequence[str],
    var_name: str,
    value_name: str,
    *,
    value_columns: Sequence[str] | None = None,
    dropna: bool = False,
) -> pd.DataFrame:
    """Turn one column per variable (station, hour...) into rows ``id_columns + [var, value]``.

    ``value_columns`` defaults to every column not in ``id_columns``. Missing values are kept
    (they matter for completeness) unless ``dropna``. Rows keep the file order of the ids.
    """
    ids = list(id_columns)
    missing = [c for c in ids if c not in df.columns]
    if missing:
        raise DataReadError(
            "Colonnes attendues absentes du fichier : "
            + ", ".join(f"« {c} »" for c in missing)
            + ". Colonnes du fichier : "
            + ", ".join(f"« {c} »" for c in df.columns)
            + "."
        )
    values = (
        list(value_columns)
        if value_columns is not None
        else [c for c in df.columns if c not in ids]
    )
    position = np.arange(len(df))
    long = df.assign(_row=position).melt(
        id_vars=[*ids, "_row"], value_vars=values, var_name=var_name, value_name=value_name
    )
    order = {name: i for i, name in enumerate(values)}
    long["_var"] = long[var_name].map(order)
    long = long.sort_values(["_row", "_var"], kind="stable").drop(columns=["_row", "_var"])
    if dropna:
        long = long.dropna(subset=[value_name])
    long = long.reset_index(drop=True)
    long.attrs = {k: v for k, v in df.attrs.items() if k != "read_problems"}
    return long


# ---------------------------------------------------------------------------------------------
# Files


def check_data_path(source: Any) -> Path:
    """The path of a user's data file, checked: it exists, is a file and can be resolved.

    Raises ``DataReadError`` (French) for a missing file, a folder, a loop of symbolic links
    or a path that cannot be read.
    """
    path = Path(source).expanduser()
    try:
        resolved = path.resolve()
        exists, is_dir = resolved.exists(), resolved.is_dir()
    except RuntimeError as exc:  # Python < 3.13: a loop of symbolic links
        raise DataReadError(f"« {path} » est une boucle de liens symboliques.") from exc
    except OSError as exc:
        if exc.errno == 40:  # ELOOP
            raise DataReadError(f"« {path} » est une boucle de liens symboliques.") from exc
        raise DataReadError(f"Impossible de lire « {path} » : {exc.strerror or exc}.") from exc
    if is_dir:
        raise DataReadError(f"« {path} » est un dossier, pas un fichier de données.")
    if not exists:
        if path.is_symlink():
            raise DataReadError(
                f"« {path} » est un lien symbolique vers un fichier absent (ou une boucle)."
            )
        raise DataReadError(f"Fichier introuvable : « {path} ».")
    return resolved


def _read_bytes(source: Any) -> tuple[bytes, str]:
    if isinstance(source, bytes | bytearray):
        return _gunzip(bytes(source), "<données>"), "<données>"
    if hasattr(source, "read"):
        data = source.read()
        name = str(getattr(source, "name", "<données>"))
        if isinstance(data, str):
            return data.encode("utf-8"), name
        return _gunzip(bytes(data), name), name
    path = check_data_path(source)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DataReadError(f"Impossible de lire « {path} » : {exc.strerror or exc}.") from exc
    return _gunzip(data, str(path)), str(path)


def _gunzip(data: bytes, name: str) -> bytes:
    """The content of a gzip file (``.csv.gz``), or ``data`` itself when it is not compressed."""
    if not data.startswith(_GZIP_MAGIC):
        return data
    try:
        return gzip.decompress(data)
    except (OSError, EOFError, zlib.error) as exc:
        raise DataReadError(
            f"« {name} » est un fichier compressé (gzip) abîmé ou incomplet : {exc}."
        ) from exc


def _decode(data: bytes, encoding: str | None) -> tuple[str, str]:
    if encoding:
        try:
            return data.decode(encoding), encoding
        except (UnicodeDecodeError, LookupError) as exc:
            raise DataReadError(
                f"Le fichier ne peut pas être décodé avec l'encodage « {encoding} »."
            ) from exc
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace"), "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError as exc:
            raise DataReadError("Le fichier se dit UTF-16 mais ne peut pas être décodé.") from exc
    head = data[:8192]
    if head.count(0) > len(head) // 100:  # a stray NUL in a text export is not binary
        zeros_odd, zeros_even = head[1::2].count(0), head[0::2].count(0)
        half = len(head) // 2
        for zeros, codec in ((zeros_odd, "utf-16-le"), (zeros_even, "utf-16-be")):
            if zeros >= 0.4 * half:
                try:
                    return data.decode(codec), codec
                except UnicodeDecodeError:
                    break
        raise DataReadError(
            "Le fichier n'est pas un fichier texte (CSV) : il contient des octets binaires. "
            "Enregistrez vos données au format CSV (séparateur « ; » ou « , »)."
        )
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        return data.decode("latin-1"), "latin-1"


def _first_lines(text: str, count: int = _SNIFF_LINES) -> list[str]:
    """The first ``count`` lines of ``text`` without splitting the whole of a big file."""
    out, start = [], 0
    while len(out) < count and start < len(text):
        end = text.find("\n", start)
        end = len(text) if end < 0 else end
        out.append(text[start:end].rstrip("\r"))
        start = end + 1
    return out


def header_names(text: str, separator: str) -> list[str]:
    """The column names of the header line as written (before pandas renames repeats)."""
    first = text.split("\n", 1)[0][: 16 * _SNIFF_CHARS]
    try:
        names = next(csv.reader(io.StringIO(first), delimiter=separator), [])
    except csv.Error:
        return []
    return [_clean_header(n, i) for i, n in enumerate(names)]


def refuse_repeated_names(names: Sequence[str], source: str) -> None:
    """``DataReadError`` when two columns of the header carry the same name."""
    positions: dict[str, list[int]] = {}
    for i, name in enumerate(names, start=1):
        positions.setdefault(name, []).append(i)
    repeated = {n: p for n, p in positions.items() if len(p) > 1}
    if repeated:
        details = "; ".join(
            f"« {n} » (colonnes {', '.join(map(str, p))})" for n, p in repeated.items()
        )
        raise DataReadError(
            f"Le fichier « {source} » a plusieurs colonnes de même nom : {details}. "
            "Renommez-les : une seule colonne doit porter chaque nom."
        )


def sniff_separator(text: str) -> str:
    """Pick the separator (``;`` ``,`` tab ``|``) giving the most regular table on the first lines.

    The best candidate splits the header into several fields and most following lines into the
    same number of fields; ties go to ``;`` (French exports), then ``,``.
    """
    lines = [line[:_SNIFF_CHARS] for line in _first_lines(text) if line.strip()]
    if not lines:
        return ","
    sample = "\n".join(lines)
    best, best_score = ",", (-1.0, 0)
    for sep in SEPARATORS:
        try:
            rows = list(csv.reader(io.StringIO(sample), delimiter=sep))
        except csv.Error:  # an odd sample (e.g. a huge quoted field): not this separator
            continue
        if not rows:
            continue
        width = len(rows[0])
        if width < 2:
            continue
        body = rows[1:] or rows
        regular = sum(1 for r in body if len(r) == width) / len(body)
        score = (round(regular, 2), width)
        if score > best_score:
            best, best_score = sep, score
    return best


def _is_units_row(raw: pd.DataFrame, markers: frozenset[str]) -> bool:
    """True when the first data row holds units (``µg/m3``...) above numeric columns."""
    if len(raw) < 3:
        return False
    first, rest = raw.iloc[0], raw.iloc[1 : 1 + _SNIFF_LINES]
    numeric_columns, first_values = 0, []
    for col in raw.columns:
        values = rest[col]
        present = values[~_missing_mask(values, markers)]
        if present.empty:
            continue
        text = present.astype("string").str.strip()
        numeric = _to_number_text(text).str.match(_NUMBER) | text.str.match(_DATE_LIKE)
        if numeric.mean() >= 0.9:
            numeric_columns += 1
            value = first[col]
            if not _missing_mask(pd.Series([value]), markers).iloc[0]:
                first_values.append(str(value).strip())
    if numeric_columns == 0 or not first_values:
        return False
    first_text = pd.Series(first_values, dtype="string")
    looks_numeric = _to_number_text(first_text).str.match(_NUMBER) | first_text.str.match(
        _DATE_LIKE
    )
    return not bool(looks_numeric.any())


def _read_excel(data: bytes, name: str) -> pd.DataFrame:
    try:
        return pd.read_excel(io.BytesIO(data), dtype=str, keep_default_na=False)
    except ImportError as exc:
        raise DataReadError(
            f"« {name} » est un classeur Excel : enregistrez-le au format CSV (séparateur « ; » "
            "ou « , ») puis recommencez."
        ) from exc
    except Exception as exc:  # noqa: BLE001 - any reader failure is a user-file problem
        raise DataReadError(f"Le classeur « {name} » ne peut pas être lu : {exc}.") from exc


def read_table(
    source: Any,
    *,
    column_map: Mapping[str, str] | None = None,
    aliases: Mapping[str, Iterable[str]] | None = None,
    text_columns: Iterable[str] = (),
    date_columns: Iterable[str] = (),
    missing_values: Iterable[str] | None = None,
    skip_rows_after_header: int | str = "auto",
    sep: str | None = None,
    encoding: str | None = None,
) -> pd.DataFrame:
    """Read a CSV (path, bytes, file object) or a DataFrame into a clean DataFrame.

    - ``column_map``: the user's ``{"their name": "our name"}``; ``aliases``: the entry's
      ``{"our name": ["variant", ...]}`` (matched on ``normalise_name``).
    - ``text_columns`` (our names) stay text (leading zeros kept); columns of digit strings
      with a leading zero (``0674``) are also kept as text automatically.
    - ``date_columns`` (our names) are parsed with ``parse_dates``.
    - ``missing_values``: markers added to ``DEFAULT_MISSING`` (case-insensitive).
    - ``skip_rows_after_header``: rows between the header and the data (e.g. a units row);
      ``"auto"`` detects one units row, an ``int`` forces the count.
    - ``sep`` / ``encoding``: force them instead of sniffing.

    Every other column becomes numeric when all its present values are numbers (decimal comma
    and thousands spaces accepted), else stays text. The index is the 0-based data row of the
    file; ``df.attrs`` holds ``source``, ``encoding``, ``separator``, ``header_line`` (1),
    ``first_data_line`` (file line of data row 1), ``skipped_rows`` and ``read_problems``
    (values that could not be read: dicts ``row`` (1-based data row), ``column``, ``value``,
    ``kind``). Raises ``DataReadError`` (French) when the file cannot be read.
    """
    markers = DEFAULT_MISSING | {str(m).strip().lower() for m in (missing_values or ())}
    attrs: dict[str, Any] = {"header_line": 1}
    if isinstance(source, pd.DataFrame):
        raw = source.copy()
        raw.columns = [_clean_header(c, i) for i, c in enumerate(raw.columns)]
        refuse_repeated_names(list(raw.columns), "<DataFrame>")
        attrs.update(source="<DataFrame>", encoding=None, separator=None)
    else:
        data, name = _read_bytes(source)
        attrs["source"] = name
        if not data.strip():
            raise DataReadError(f"Le fichier « {name} » est vide.")
        if name.lower().removesuffix(".gz").endswith((".xlsx", ".xls", ".ods")):
            raw = _read_excel(data, name)
            attrs.update(encoding=None, separator=None)
        else:
            text, used_encoding = _decode(data, encoding)
            separator = sep or sniff_separator(text)
            attrs.update(encoding=used_encoding, separator=separator)
            refuse_repeated_names(header_names(text.lstrip("\ufeff"), separator), name)
            try:
                raw = pd.read_csv(
                    io.StringIO(text),
                    sep=separator,
                    dtype=str,
                    keep_default_na=False,
                    na_filter=False,
                    skip_blank_lines=True,
                    engine="c",
                )
            except pd.errors.ParserError as exc:
                line = re.search(r"line (\d+)", str(exc))
                where = f" (ligne {line.group(1)})" if line else ""
                raise DataReadError(
                    f"Le fichier « {name} » n'a pas le même nombre de colonnes sur toutes ses "
                    f"lignes{where}. Séparateur détecté : "
                    f"{_SEPARATOR_NAMES.get(separator, repr(separator))}."
                ) from exc
            except pd.errors.EmptyDataError as exc:
                raise DataReadError(f"Le fichier « {name} » ne contient aucune donnée.") from exc
        raw.columns = [_clean_header(c, i) for i, c in enumerate(raw.columns)]
        empty_unnamed = [
            c
            for c in raw.columns
            if re.fullmatch(r"colonne_\d+|Unnamed: \d+", c) and _missing_mask(raw[c], markers).all()
        ]
        raw = raw.drop(columns=empty_unnamed)

    if skip_rows_after_header == "auto":
        skipped = 1 if _is_units_row(raw, markers) else 0
    else:
        skipped = int(skip_rows_after_header)
    if skipped:
        raw = raw.iloc[skipped:]
    raw = raw.reset_index(drop=True)
    attrs["skipped_rows"] = skipped
    attrs["first_data_line"] = 2 + skipped

    text_set, date_set = set(text_columns), set(date_columns)
    known = {name: [] for name in (*sorted(text_set), *sorted(date_set))}
    for ours, variants in (aliases or {}).items():
        known[ours] = list(variants)
    df = apply_column_names(raw, aliases=known, column_map=column_map)
    problems: list[dict[str, Any]] = []
    for col in df.columns:
        values = df[col]
        if pd.api.types.is_datetime64_any_dtype(values) or (
            pd.api.types.is_numeric_dtype(values) and col not in text_set
        ):
            if col in date_set:
                df[col] = parse_dates(values)
            continue
        stripped, missing = _strip_and_mask(values, markers)
        if col in date_set:
            parsed = parse_dates(stripped)
            bad = parsed.isna() & ~missing
            for idx in np.flatnonzero(bad.to_numpy()):
                problems.append(
                    {
                        "row": int(idx) + 1,
                        "column": col,
                        "value": str(stripped.iloc[idx]),
                        "kind": "date",
                    }
                )
            df[col] = parsed
            continue
        numbers = None if col in text_set else _to_numbers(stripped, missing)
        if numbers is None:
            df[col] = _as_text(stripped)
        elif not missing.any() and np.all(np.mod(numbers.to_numpy(), 1) == 0):
            df[col] = numbers.astype("int64")
        else:
            df[col] = numbers
    attrs["read_problems"] = problems
    df.attrs = attrs
    return df


def _as_text(values: pd.Series) -> pd.Series:
    """Text column with ``NaN`` for missing values (pandas' default ``str`` dtype)."""
    return pd.Series(values.to_numpy(dtype=object, na_value=np.nan), index=values.index).astype(
        "str"
    )
