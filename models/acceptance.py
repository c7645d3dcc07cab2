"""Partial acceptance of a real file: refuse what is structural, set aside what is row-level.

``accept(df, report, ...)`` runs after ``models.validation.validate`` and reads as steps:

1. ``structural``: a problem of the whole file (a required column absent) refuses the file;
2. ``future_dates``: a date after today cannot be an observation: its row is a problem;
3. ``duplicates``: rows identical in every column keep their first copy (counted); rows that
   share the key (e.g. canteen + date) with different values are all set aside (counted);
4. ``set_aside``: every row with a problem (bad type, missing required value, out of range,
   bad enum, bad or future date, conflicting duplicate) leaves the data; the problems go to
   ``report.acceptance`` (French report, ``lignes_ecartees.csv``);
5. ``share``: below ``min_share`` of usable rows (default ``DEFAULT_MIN_SHARE``), the file is
   refused with the share in the message.

``report.refusal`` then holds the French reason of a refusal (``None`` when usable);
``report.raise_if_refused()`` raises ``DataValidationError``. ``derive_key`` fills a missing
key from another column when that column names one key only elsewhere in the file (a counter's
id from its name); ``require_rows`` refuses a series too short for the entry's model. The
``Acceptance`` travels with the data in ``df.attrs["acceptance"]``, so that the quality report
grades the duplicates and ``metrics.json`` / ``lignes_ecartees.csv`` record the rows set aside.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from models.validation import Problem, ValidationReport, lines_fr, summarise

DEFAULT_MIN_SHARE = 0.9
"""Share of usable rows under which a file is refused (``BIBLIO_MIN_USABLE_SHARE``)."""
from models.contract import SET_ASIDE_FILE, neutralise_cell  # noqa: E402  (one home each)

SET_ASIDE_COLUMNS = ("ligne", "colonne", "valeur", "motif")


def _s(n: int) -> str:
    """French plural mark: ``""`` for 0 and 1, ``"s"`` above."""
    return "s" if abs(n) > 1 else ""


def pct_fr(share: float) -> str:
    """``0.9`` → ``90 %``, ``0.625`` → ``62,5 %``."""
    decimals = 2 if 0 < share < 0.01 else 1
    text = f"{100 * share:.{decimals}f}".rstrip("0").rstrip(".")
    return f"{text.replace('.', ',')} %"


@dataclass(eq=False)
class Acceptance:
    """What ``accept`` did to a file: rows read, kept, set aside (with their problems),
    duplicates and derived keys. Shared, not copied, by the frames that carry it."""

    rows_read: int = 0
    rows_kept: int = 0
    set_aside: list[Problem] = field(default_factory=list)
    duplicates_exact: int = 0
    duplicates_conflicting: int = 0
    derived: list[dict[str, Any]] = field(default_factory=list)
    min_share: float = DEFAULT_MIN_SHARE

    def __deepcopy__(self, memo: dict) -> Acceptance:
        return self  # pandas deep-copies attrs at every step: one shared record is enough

    @property
    def rows_set_aside(self) -> int:
        return len({p.row for p in self.set_aside})

    @property
    def noteworthy(self) -> bool:
        """Something to report: rows set aside, duplicates or derived keys."""
        return bool(
            self.set_aside or self.derived or self.duplicates_exact or self.duplicates_conflicting
        )

    @property
    def share_kept(self) -> float:
        usable = self.rows_read - self.duplicates_exact
        return (usable - self.rows_set_aside) / usable if usable else 0.0

    def header(self) -> str:
        text = (
            f"Bilan de lecture : {lines_fr(self.rows_read)} lue{_s(self.rows_read)}, "
            f"{lines_fr(self.rows_kept)} gardée{_s(self.rows_kept)}"
        )
        if self.rows_set_aside:
            text += (
                f", {lines_fr(self.rows_set_aside)} écartée"
                f"{'s' if self.rows_set_aside > 1 else ''} "
                f"({pct_fr(1 - self.share_kept)}, détail dans {SET_ASIDE_FILE})"
            )
        return text + "."

    def detail_lines(self, max_listed: int = 5) -> list[str]:
        """French lines: derived keys, duplicates, then the rows set aside (grouped)."""
        out = [f"- {d['message']}" for d in self.derived]
        if self.duplicates_exact:
            n = self.duplicates_exact
            out.append(
                f"- Doublons exacts : {lines_fr(n)} identique{'s' if n > 1 else ''} à une ligne "
                "précédente, une seule copie gardée."
            )
        if self.duplicates_conflicting:
            n = self.duplicates_conflicting
            out.append(
                f"- Doublons contradictoires : {lines_fr(n)} avec la même clé et des valeurs "
                "différentes, toutes écartées."
            )
        if self.set_aside:
            out.append(f"Lignes écartées ({lines_fr(self.rows_set_aside)}) :")
            out += [f"  - {line}" for line in summarise(self.set_aside, max_listed)]
        return out

    def table(self) -> pd.DataFrame:
        """``lignes_ecartees.csv``: file line, column, value and French reason of each
        problem of the rows set aside, text values neutralised against formula injection."""
        rows = [
            (p.line, p.title or p.column, neutralise_cell(_plain(p.value)), p.message)
            for p in self.set_aside
        ]
        return pd.DataFrame(rows, columns=list(SET_ASIDE_COLUMNS))

    def summary(self) -> dict[str, Any]:
        """Counts for ``metrics.json``."""
        return {
            "rows_read": self.rows_read,
            "rows_kept": self.rows_kept,
            "rows_set_aside": self.rows_set_aside,
            "duplicates_exact": self.duplicates_exact,
            "duplicates_conflicting": self.duplicates_conflicting,
            "derived": [dict(d) for d in self.derived],
            "min_share": self.min_share,
        }

    def to_dict(self) -> dict[str, Any]:
        """Counts and the rows set aside (``write_outputs`` turns them into the CSV)."""
        from models.contract import to_jsonable

        return {**self.summary(), "set_aside": to_jsonable(self.table().to_dict("records"))}


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return ", ".join(str(v) for v in value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, np.generic):
        return value.item()
    if value is pd.NaT:
        return ""
    if isinstance(value, pd.Timestamp | dt.datetime):
        return pd.Timestamp(value).strftime("%Y-%m-%d")
    return value


def acceptance_of(data: Any) -> Acceptance | None:
    """The ``Acceptance`` a frame carries (``attrs["acceptance"]``), if any."""
    attrs = getattr(data, "attrs", None) or {}
    found = attrs.get("acceptance")
    return found if isinstance(found, Acceptance) else None


def _row_numbers(df: pd.DataFrame) -> np.ndarray:
    """1-based data row of each row (the reader's index + 1), as ``validate`` counts them."""
    if pd.api.types.is_integer_dtype(df.index) and len(df.index) and df.index.min() >= 0:
        return np.asarray(df.index, dtype="int64") + 1
    return np.arange(1, len(df) + 1)


def _label(column: str, titles: dict[str, str]) -> str:
    title = titles.get(column)
    return f"« {title} » ({column})" if title and title != column else f"« {column} »"


def future_dates(
    df: pd.DataFrame,
    report: ValidationReport,
    date_columns: Sequence[str],
    *,
    today: Any = None,
    titles: dict[str, str] | None = None,
) -> None:
    """A problem for each date after ``today`` (default: the machine's date)."""
    limit = pd.Timestamp(today if today is not None else dt.date.today()).normalize()
    limit = limit + pd.Timedelta(days=1)  # a whole day: today's hours are not in the future
    rows = _row_numbers(df)
    offset = report.first_data_line - 1
    for col in date_columns:
        if col not in df.columns or not pd.api.types.is_datetime64_any_dtype(df[col]):
            continue
        for pos in np.flatnonzero((df[col] >= limit).to_numpy()):
            value = pd.Timestamp(df[col].iloc[pos])
            report.problems.append(
                Problem(
                    row=int(rows[pos]),
                    column=col,
                    line=int(rows[pos]) + offset,
                    check="future",
                    value=value,
                    title=(titles or {}).get(col),
                    message=(
                        f"{_label(col, titles or {})} : {value:%d/%m/%Y} est dans le futur "
                        f"(après le {limit - pd.Timedelta(days=1):%d/%m/%Y})."
                    ),
                )
            )


def duplicates(
    df: pd.DataFrame, report: ValidationReport, key: Sequence[str]
) -> tuple[pd.DataFrame, int, int]:
    """Drop exact duplicate rows (keep the first); a problem for every row of a key shared
    with different values. Returns ``(frame, exact count, conflicting rows)``."""
    exact = df.duplicated(keep="first")
    n_exact = int(exact.sum())
    out = df[~exact.to_numpy()]
    key = [k for k in key if k in out.columns]
    if not key or out.empty:
        return out, n_exact, 0
    # rows without a full key are set aside for that reason, not as conflicts
    shared = (out.duplicated(key, keep=False) & out[key].notna().all(axis=1)).to_numpy()
    if not shared.any():
        return out, n_exact, 0
    part = out[shared]
    others = [c for c in part.columns if c not in key]
    # complementary rows (one gives the forecast, the other the count) are not a conflict
    conflict = part.groupby(key, dropna=False, sort=False)[others].transform("nunique").gt(1)
    conflicting = conflict.any(axis=1).to_numpy()
    rows = _row_numbers(part)[conflicting]
    offset = report.first_data_line - 1
    bad = part[conflicting]
    groups = bad.groupby(key, dropna=False, sort=False).ngroup().to_numpy()
    members: dict[int, list[int]] = {}
    for group, row in zip(groups, rows, strict=True):
        members.setdefault(int(group), []).append(int(row) + offset)
    names = ", ".join(key)
    for i, row in enumerate(rows):
        values = tuple(_plain(bad[k].iloc[i]) for k in key)
        shown = ", ".join(str(v) for v in values)
        others = [line for line in members[int(groups[i])] if line != row + offset]
        listed = ", ".join(map(str, others[:5])) + (", …" if len(others) > 5 else "")
        report.problems.append(
            Problem(
                row=int(row),
                column=names,
                line=int(row) + offset,
                check="conflict",
                value=values,
                message=(
                    f"doublon contradictoire : la clé ({names}) = ({shown}) revient "
                    f"{'aux lignes' if len(others) > 1 else 'à la ligne'} {listed} avec des "
                    "valeurs différentes."
                ),
            )
        )
    return out, n_exact, int(conflicting.sum())


def accept(
    df: pd.DataFrame,
    report: ValidationReport,
    *,
    key: Sequence[str] = (),
    date_columns: Sequence[str] = (),
    min_share: float | None = None,
    today: Any = None,
    titles: dict[str, str] | None = None,
    derived: Sequence[dict[str, Any] | None] = (),
) -> pd.DataFrame:
    """The rows of ``df`` that can be used; ``report`` gets ``acceptance`` and ``refusal``.

    ``key``: the columns naming one observation (duplicates); ``date_columns``: dates that
    cannot be in the future; ``min_share``: least share of usable rows (``None`` =
    ``DEFAULT_MIN_SHARE``); ``derived``: what ``derive_key`` filled in. Never raises for a
    data problem: call ``report.raise_if_refused``.
    """
    share = DEFAULT_MIN_SHARE if min_share is None else float(min_share)
    acceptance = report.acceptance or Acceptance(min_share=share)
    acceptance.min_share = share
    acceptance.derived += [d for d in derived if d]
    acceptance.rows_read = len(df)
    report.acceptance = acceptance
    if not report.usable:  # a structural problem: nothing more to say about rows
        report.refusal = report.refusal or "le fichier ne correspond pas au format attendu."
        acceptance.rows_kept = 0
        return df.iloc[0:0]
    future_dates(df, report, date_columns, today=today, titles=titles)
    # the validator's own duplicate findings are replaced by the finer rule below
    report.problems = [p for p in report.problems if p.check not in ("primary_key", "unique")]
    work, n_exact, n_conflict = duplicates(df, report, key)
    acceptance.duplicates_exact += n_exact
    acceptance.duplicates_conflicting += n_conflict
    row_level = [p for p in report.problems if p.row is not None]
    report.problems = [p for p in report.problems if p.row is None]
    acceptance.set_aside = sorted(
        [*acceptance.set_aside, *row_level], key=lambda p: p.line or p.row or 0
    )
    bad_rows = {p.row for p in row_level}
    keep = ~np.isin(_row_numbers(work), list(bad_rows))
    kept = work[keep]
    acceptance.rows_kept = len(kept)
    if acceptance.rows_read and acceptance.share_kept < share:
        report.refusal = (
            f"seulement {pct_fr(acceptance.share_kept)} des lignes sont utilisables "
            f"({lines_fr(acceptance.rows_kept)} sur {lines_fr(acceptance.rows_read - n_exact)}) ; "
            f"il en faut au moins {pct_fr(share)}. Corrigez les lignes signalées ou abaissez "
            "la part minimale (option --min-share, réglage BIBLIO_MIN_USABLE_SHARE)."
        )
    elif acceptance.rows_kept == 0:
        report.refusal = "aucune ligne utilisable."
    kept = kept.copy()
    kept.attrs = {**df.attrs, "acceptance": acceptance}
    return kept


def derive_key(
    df: pd.DataFrame, column: str, source: str, *, titles: dict[str, str] | None = None
) -> tuple[pd.DataFrame, dict[str, Any] | None]:
    """Fill the empty values of ``column`` from ``source`` when, in the other rows of the
    file, that ``source`` value always goes with one same ``column`` value (a counter's id
    from its name). Returns the frame and what was derived (for ``accept(derived=...)``), or
    ``None``; rows that stay without a key are left to validation."""
    if column not in df.columns or source not in df.columns:
        return df, None
    key = df[column].astype("string").str.strip()
    empty = (key.isna() | (key == "")).to_numpy()
    if not empty.any():
        return df, None
    names = df[source].astype("string").str.strip()
    known = pd.DataFrame({"k": key[~empty], "n": names[~empty]}).dropna()
    unique = known.groupby("n")["k"].nunique()
    mapping = known.drop_duplicates("n").set_index("n")["k"]
    mapping = mapping[mapping.index.isin(unique[unique == 1].index)]
    filled = names[empty].map(mapping)
    found = filled.notna().to_numpy()
    if not found.any():
        return df, None
    out = df.copy()
    out[column] = out[column].astype(object)
    out.loc[filled.index[found], column] = filled[found].astype(str).to_numpy()
    out.attrs = df.attrs
    n = int(found.sum())
    return out, {
        "column": column,
        "source": source,
        "rows": n,
        "message": (
            f"{_label(column, titles or {})} vide sur {lines_fr(n)} : déduit de "
            f"{_label(source, titles or {})} (même valeur ailleurs dans le fichier)."
        ),
    }


def require_rows(report: ValidationReport, count: int, minimum: int, what: tuple[str, str]) -> None:
    """Refuse (``report.refusal``) data whose series is shorter than the model needs;
    ``what`` is the unit, singular and plural (``("jour de service", "jours de service")``)."""
    if report.refusal is None and count < minimum:
        unit = what[0] if count <= 1 else what[1]
        report.refusal = (
            f"série trop courte pour entraîner le modèle : {count} {unit}, il en faut au "
            f"moins {minimum}."
        )


def titles_of(schema: dict[str, Any]) -> dict[str, str]:
    """French titles of a Table Schema's fields, by field name."""
    return {f["name"]: f.get("title") or f["name"] for f in schema.get("fields", []) if "name" in f}
