"""Data-quality summary of a time-series table, ending in a grade A–E with French reasons.

``quality_report`` reads as three steps:

1. ``measure``: rows, period covered, completeness per column, duplicates (same series and
   date), gaps in time (expected dates missing per series at the given frequency, with
   ``expected_weekdays`` / ``exclude_dates`` / ``expected`` for dates that are normally absent
   such as Wednesdays or school vacations), zeros and outliers (robust: distance to the series
   median in MADs);
2. ``grade``: a grade per criterion (``THRESHOLDS``, ``GRADE_FLOOR``); the report's grade is
   the worst one (``overall_grade``);
3. ``explain``: the French reasons, worst criterion first.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from models.french import fmt_fr
from models.io import parse_dates

GRADES = "ABCDE"

# Upper bounds (in %) for grades A, B, C, D; above the last one: E.
THRESHOLDS: dict[str, tuple[float, float, float, float]] = {
    "missing": (1.0, 5.0, 10.0, 25.0),
    "duplicates": (0.0, 0.1, 1.0, 5.0),
    "gaps": (1.0, 5.0, 10.0, 25.0),
    "outliers": (1.0, 2.0, 5.0, 10.0),
    "zeros": (10.0, 25.0, 50.0, 100.0),
}
MIN_ROWS = 30
# Criteria that describe oddities rather than unusable data cannot push the grade below this.
GRADE_FLOOR = {"outliers": "C", "zeros": "C", "duplicates": "D"}
OUTLIER_MADS = 5.0
_MAD_SCALE = 1.4826


def _grade(criterion: str, pct: float) -> str:
    letter = "E"
    for candidate, bound in zip(GRADES, THRESHOLDS[criterion], strict=False):
        if pct <= bound:
            letter = candidate
            break
    return min(letter, GRADE_FLOOR.get(criterion, "E"))


@dataclass
class QualityReport:
    """Measures of a data set's quality, its grade (A–E) and the French reasons."""

    rows: int
    period: tuple[str | None, str | None]
    grade: str
    reasons: list[str]
    summary: dict[str, Any] = field(default_factory=dict)
    outlier_mask: pd.Series | None = field(default=None, repr=False)
    acceptance: Any = field(default=None, repr=False)
    """``models.acceptance.Acceptance`` of the file (rows read, kept, set aside), if known."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable: ``rows, period, grade, reasons, summary`` (metrics.json shape),
        and ``acceptance`` (rows read / kept / set aside, the rows set aside) when known."""
        from models.contract import to_jsonable

        out = {
            "rows": self.rows,
            "period": list(self.period),
            "grade": self.grade,
            "reasons": list(self.reasons),
            "summary": self.summary,
        }
        if self.acceptance is not None:
            out["acceptance"] = self.acceptance.to_dict()
        return to_jsonable(out)

    def to_markdown(self) -> str:
        """French Markdown table of the measures, then the grade and its reasons."""
        s = self.summary
        start, end = self.period
        lines = ["| Indicateur | Valeur |", "|---|---|"]
        acc = self.acceptance
        if acc is not None:
            lines += [
                f"| Lignes lues dans le fichier | {fmt_fr(acc.rows_read, 0)} |",
                f"| Lignes gardées | {fmt_fr(acc.rows_kept, 0)} |",
                f"| Lignes écartées | {fmt_fr(acc.rows_set_aside, 0)} |",
            ]
        lines += [
            f"| Lignes | {fmt_fr(self.rows, 0)} |",
            f"| Période couverte | du {start or '—'} au {end or '—'} |",
        ]
        if s.get("series_column"):
            lines.append(f"| Séries ({s['series_column']}) | {fmt_fr(s['n_series'], 0)} |")
        for col, pct in s.get("completeness", {}).items():
            lines.append(f"| Complétude « {col} » | {fmt_fr(pct)} % |")
        dup = s.get("duplicates", {})
        lines.append(
            f"| Doublons (lignes identiques, ou même série et même date) | "
            f"{fmt_fr(dup.get('count', 0), 0)} "
            f"({fmt_fr(dup.get('pct', 0.0), 2)} %) |"
        )
        gaps = s.get("gaps", {})
        lines.append(
            f"| Dates manquantes (pas « {s.get('freq')} ») | {fmt_fr(gaps.get('missing', 0), 0)}"
            f" sur {fmt_fr(gaps.get('expected', 0), 0)} attendues "
            f"({fmt_fr(gaps.get('pct', 0.0))} %) ; plus long trou : "
            f"{fmt_fr(gaps.get('longest', 0), 0)} |"
        )
        for col, z in s.get("zeros", {}).items():
            lines.append(f"| Zéros « {col} » | {fmt_fr(z['count'], 0)} ({fmt_fr(z['pct'])} %) |")
        for col, o in s.get("outliers", {}).items():
            count, pct = fmt_fr(o["count"], 0), fmt_fr(o["pct"], 2)
            lines.append(f"| Valeurs atypiques « {col} » | {count} ({pct} %) |")
        lines += ["", f"**Note de qualité : {self.grade}**", ""]
        lines += [f"- {reason}" for reason in self.reasons]
        return "\n".join(lines)

    def _repr_markdown_(self) -> str:
        return self.to_markdown()


def _gaps(
    dates: pd.Series,
    series: pd.Series,
    freq: str,
    expected_weekdays: Sequence[int] | None,
    exclude: pd.DatetimeIndex | None,
    expected: Callable[[pd.DatetimeIndex], Any] | None,
) -> dict[str, Any]:
    total_expected, total_missing, longest = 0, 0, 0
    per_series: dict[str, int] = {}
    frame = pd.DataFrame({"d": dates, "s": series}).dropna(subset=["d"])
    for key, part in frame.groupby("s", sort=True):
        present = pd.DatetimeIndex(part["d"].unique()).floor(freq)
        full = pd.date_range(present.min(), present.max(), freq=freq)
        keep = np.ones(len(full), dtype=bool)
        if expected_weekdays is not None:
            keep &= np.isin(full.day_of_week, list(expected_weekdays))
        if exclude is not None and len(exclude):
            keep &= ~full.normalize().isin(exclude)
        if expected is not None:
            keep &= np.asarray(expected(full), dtype=bool)
        wanted = full[keep]
        missing = ~wanted.isin(present)
        n_missing = int(missing.sum())
        total_expected += len(wanted)
        total_missing += n_missing
        if n_missing:
            per_series[str(key)] = n_missing
            # longest run of consecutive missing expected dates
            run = np.diff(np.r_[0, missing.astype(int), 0])
            starts, ends = np.flatnonzero(run == 1), np.flatnonzero(run == -1)
            longest = max(longest, int((ends - starts).max()))
    pct = 100.0 * total_missing / total_expected if total_expected else 0.0
    worst = dict(sorted(per_series.items(), key=lambda kv: -kv[1])[:10])
    return {
        "expected": total_expected,
        "missing": total_missing,
        "pct": pct,
        "longest": longest,
        "series_with_gaps": len(per_series),
        "worst_series": worst,
    }


def _outliers(values: pd.Series, series: pd.Series, threshold: float) -> pd.Series:
    """True where a value is more than ``threshold`` robust deviations from its series median."""
    grouped = values.groupby(series)
    median = grouped.transform("median")
    deviation = (values - median).abs()
    mad = deviation.groupby(series).transform("median") * _MAD_SCALE
    fallback = deviation.groupby(series).transform("mean") * 1.2533
    scale = mad.where(mad > 0, fallback)
    return (deviation > threshold * scale) & (scale > 0) & values.notna()


@dataclass
class QualityMeasures:
    """What ``measure`` finds in a table, before any grade (percentages are 0–100)."""

    rows: int
    period: tuple[str | None, str | None]
    series_columns: list[str]
    n_series: int
    freq: str
    completeness: dict[str, float]
    duplicates: dict[str, float]
    gaps: dict[str, Any]
    zeros: dict[str, dict[str, float]]
    outliers: dict[str, dict[str, float]]
    outlier_mask: pd.Series
    value_columns: list[str]
    zeros_expected: bool

    @property
    def value_missing(self) -> dict[str, float]:
        """Missing share (%) of each value column."""
        return {c: 100.0 - self.completeness[c] for c in self.value_columns}

    def to_summary(self, criteria: dict[str, str]) -> dict[str, Any]:
        """The ``summary`` of the report (``metrics.json``), with the grade of each criterion."""
        return {
            "series_column": " + ".join(self.series_columns) or None,
            "n_series": self.n_series,
            "freq": self.freq,
            "completeness": self.completeness,
            "duplicates": self.duplicates,
            "gaps": self.gaps,
            "zeros": self.zeros,
            "outliers": self.outliers,
            "criteria": criteria,
        }


def quality_report(
    df: pd.DataFrame,
    *,
    date_column: str,
    value_columns: Sequence[str],
    series_column: str | Sequence[str] | None = None,
    freq: str = "D",
    outlier_groups: Sequence[str] = (),
    expected_weekdays: Sequence[int] | None = None,
    exclude_dates: Iterable[Any] | None = None,
    expected: Callable[[pd.DatetimeIndex], Any] | None = None,
    zeros_expected: bool = False,
    outlier_mads: float = OUTLIER_MADS,
) -> QualityReport:
    """Measure the quality of a time-series table and grade it A (excellent) to E (unusable).

    Three steps: ``measure`` the table, ``grade`` each criterion, ``explain`` the grades in
    French. The options are those of ``measure`` (and ``zeros_expected``: zeros are normal,
    e.g. night-time counts, and do not lower the grade).
    """
    measures = measure(
        df,
        date_column=date_column,
        value_columns=value_columns,
        series_column=series_column,
        freq=freq,
        outlier_groups=outlier_groups,
        expected_weekdays=expected_weekdays,
        exclude_dates=exclude_dates,
        expected=expected,
        zeros_expected=zeros_expected,
        outlier_mads=outlier_mads,
    )
    acceptance = (df.attrs or {}).get("acceptance")
    if not hasattr(acceptance, "rows_set_aside"):
        acceptance = None
    if acceptance is not None:
        count_file_duplicates(measures, acceptance)
    criteria = grade(measures)
    overall = overall_grade(measures, criteria)
    reasons = explain(measures, criteria, overall)
    if acceptance is not None and acceptance.rows_set_aside:
        n = acceptance.rows_set_aside
        reasons.append(
            f"{fmt_fr(n, 0)} ligne{'s' if n > 1 else ''} du fichier écartée{'s' if n > 1 else ''}"
            f" (sur {fmt_fr(acceptance.rows_read, 0)}) : voir lignes_ecartees.csv."
        )
    return QualityReport(
        rows=measures.rows,
        period=measures.period,
        grade=overall,
        reasons=reasons,
        summary=measures.to_summary(criteria),
        outlier_mask=measures.outlier_mask,
        acceptance=acceptance,
    )


def count_file_duplicates(measures: QualityMeasures, acceptance: Any) -> None:
    """Add the file's duplicates that acceptance removed (exact copies dropped, conflicting
    rows set aside) to the measured ones, as a share of the rows read: they cap the grade."""
    dropped = int(acceptance.duplicates_exact) + int(acceptance.duplicates_conflicting)
    if not dropped:
        return
    count = int(measures.duplicates["count"]) + dropped
    base = max(int(acceptance.rows_read), measures.rows, 1)
    measures.duplicates = {
        "count": count,
        "pct": 100.0 * count / base,
        "exact": int(acceptance.duplicates_exact),
        "conflicting": int(acceptance.duplicates_conflicting),
    }


def measure(
    df: pd.DataFrame,
    *,
    date_column: str,
    value_columns: Sequence[str],
    series_column: str | Sequence[str] | None = None,
    freq: str = "D",
    outlier_groups: Sequence[str] = (),
    expected_weekdays: Sequence[int] | None = None,
    exclude_dates: Iterable[Any] | None = None,
    expected: Callable[[pd.DatetimeIndex], Any] | None = None,
    zeros_expected: bool = False,
    outlier_mads: float = OUTLIER_MADS,
) -> QualityMeasures:
    """Rows, period, completeness, duplicates, gaps, zeros and outliers of a table.

    - ``series_column``: the column (or list of columns) naming a series (e.g. the canteen or
      the counter); ``None`` = a single series.
    - ``outlier_groups``: extra columns for the outlier medians (e.g. ``["hour"]`` so that a
      night count is compared with other night counts of the same series).
    - ``freq``: the expected step (``"D"``, ``"h"``...); gaps are expected steps absent
      between each series' first and last date.
    - ``expected_weekdays`` (0 = Monday): only these weekdays are expected (e.g. ``[0, 1, 3,
      4]`` for canteens closed on Wednesdays); ``exclude_dates``: days normally absent
      (vacations, holidays); ``expected``: a function of a ``DatetimeIndex`` returning the
      mask of expected steps, for anything else.
    - ``outlier_mads``: a value is atypical beyond this many robust deviations (MAD × 1.4826)
      from its series median.

    Raises ``BiblioError`` (French) when a named column is absent.
    """
    series_cols = (
        []
        if series_column is None
        else [series_column]
        if isinstance(series_column, str)
        else list(series_column)
    )
    wanted = [date_column, *value_columns, *series_cols, *outlier_groups]
    missing_cols = [c for c in wanted if c not in df.columns]
    if missing_cols:
        from models.errors import BiblioError

        raise BiblioError(
            "Colonnes absentes pour le bilan de qualité : "
            + ", ".join(f"« {c} »" for c in missing_cols)
            + "."
        )
    rows = len(df)
    dates = df[date_column]
    if not pd.api.types.is_datetime64_any_dtype(dates):
        dates = parse_dates(dates)
    if series_cols:
        series = df[series_cols[0]].astype("string").fillna("—")
        for col in series_cols[1:]:
            series = series + " | " + df[col].astype("string").fillna("—")
    else:
        series = pd.Series("toutes", index=df.index, dtype="string")
    outlier_key = series
    for col in outlier_groups:
        outlier_key = outlier_key + " | " + df[col].astype("string").fillna("—")
    valid_dates = dates.dropna()
    period = (
        (_day(valid_dates.min()), _day(valid_dates.max())) if len(valid_dates) else (None, None)
    )

    completeness = {
        str(c): (100.0 * float(df[c].notna().mean()) if rows else 0.0) for c in df.columns
    }
    dup_count = int(pd.DataFrame({"s": series, "d": dates}).duplicated().sum()) if rows else 0
    dup_pct = 100.0 * dup_count / rows if rows else 0.0
    exclude = None
    if exclude_dates is not None:
        exclude = pd.DatetimeIndex(pd.to_datetime(list(exclude_dates))).normalize()
    gaps = (
        _gaps(dates, series, freq, expected_weekdays, exclude, expected)
        if len(valid_dates)
        else {
            "expected": 0,
            "missing": 0,
            "pct": 0.0,
            "longest": 0,
            "series_with_gaps": 0,
            "worst_series": {},
        }
    )

    zeros: dict[str, dict[str, float]] = {}
    outliers: dict[str, dict[str, float]] = {}
    outlier_mask = pd.Series(False, index=df.index)
    for col in value_columns:
        values = pd.to_numeric(df[col], errors="coerce")
        present = int(values.notna().sum())
        n_zero = int((values == 0).sum())
        zeros[col] = {"count": n_zero, "pct": 100.0 * n_zero / present if present else 0.0}
        mask = _outliers(values, outlier_key, outlier_mads)
        outlier_mask |= mask
        n_out = int(mask.sum())
        outliers[col] = {"count": n_out, "pct": 100.0 * n_out / present if present else 0.0}
    return QualityMeasures(
        rows=rows,
        period=period,
        series_columns=series_cols,
        n_series=int(series.nunique()),
        freq=freq,
        completeness=completeness,
        duplicates={"count": dup_count, "pct": dup_pct},
        gaps=gaps,
        zeros=zeros,
        outliers=outliers,
        outlier_mask=outlier_mask,
        value_columns=list(value_columns),
        zeros_expected=zeros_expected,
    )


def grade(measures: QualityMeasures) -> dict[str, str]:
    """Grade A–E of each criterion (``THRESHOLDS`` on its worst column, ``GRADE_FLOOR``)."""
    worst_zeros = max((z["pct"] for z in measures.zeros.values()), default=0.0)
    return {
        "missing": _grade("missing", max(measures.value_missing.values(), default=0.0)),
        "duplicates": _grade("duplicates", measures.duplicates["pct"]),
        "gaps": _grade("gaps", measures.gaps["pct"]),
        "outliers": _grade(
            "outliers", max((o["pct"] for o in measures.outliers.values()), default=0.0)
        ),
        "zeros": "A" if measures.zeros_expected else _grade("zeros", worst_zeros),
    }


def overall_grade(measures: QualityMeasures, criteria: dict[str, str]) -> str:
    """The worst criterion; E when the table has fewer than ``MIN_ROWS`` rows."""
    return max([*criteria.values(), *(["E"] if measures.rows < MIN_ROWS else [])], default="A")


def explain(measures: QualityMeasures, criteria: dict[str, str], overall: str) -> list[str]:
    """French reasons of the grade: what the grade means, then one sentence per criterion
    below A, worst first (a table without defect gets one reassuring sentence)."""
    found = [(criteria[name], text) for name, text in _findings(measures)]
    if measures.rows < MIN_ROWS:
        found.append(
            (
                "E",
                f"Trop peu de lignes ({measures.rows}) pour entraîner un modèle fiable "
                f"(minimum {MIN_ROWS}).",
            )
        )
    reasons = [r for g, r in sorted(found, key=lambda gr: gr[0], reverse=True) if r and g != "A"]
    if not reasons:
        return ["Données complètes, sans doublon ni trou notable, peu de valeurs atypiques."]
    if overall != "A":
        reasons.insert(0, _GRADE_MEANING[overall])
    return reasons


def _findings(measures: QualityMeasures) -> list[tuple[str, str]]:
    """``(criterion, French sentence)`` of each criterion, ``""`` when there is nothing to say."""
    m = measures
    col_txt = ", ".join(f"« {c} » {fmt_fr(v)} %" for c, v in m.value_missing.items() if v > 0)
    dup_count, dup_pct = m.duplicates["count"], m.duplicates["pct"]
    gaps = m.gaps
    out_txt = ", ".join(
        f"« {c} » {fmt_fr(o['count'], 0)} ({fmt_fr(o['pct'], 2)} %)"
        for c, o in m.outliers.items()
        if o["count"]
    )
    findings = [
        ("missing", f"Valeurs manquantes : {col_txt}." if col_txt else ""),
        (
            "duplicates",
            f"{fmt_fr(dup_count, 0)} doublon{'s' if dup_count > 1 else ''} (lignes identiques, "
            f"ou même série et même date, {fmt_fr(dup_pct, 2)} % des lignes)."
            if dup_count
            else "",
        ),
        (
            "gaps",
            f"{fmt_fr(gaps['missing'], 0)} dates attendues manquantes ({fmt_fr(gaps['pct'])} %, "
            f"{gaps['series_with_gaps']} série(s) concernée(s), plus long trou : "
            f"{gaps['longest']} pas de temps)."
            if gaps["missing"]
            else "",
        ),
        (
            "outliers",
            f"Valeurs atypiques (écart robuste à la médiane de la série) : {out_txt}."
            if out_txt
            else "",
        ),
    ]
    if not m.zeros_expected:
        z_txt = ", ".join(f"« {c} » {fmt_fr(z['pct'])} %" for c, z in m.zeros.items() if z["count"])
        findings.append(("zeros", f"Part de zéros : {z_txt}." if z_txt else ""))
    return findings


_GRADE_MEANING = {
    "B": "Note B : bonne qualité, quelques défauts mineurs.",
    "C": "Note C : qualité moyenne, les résultats sont à interpréter avec prudence.",
    "D": "Note D : qualité faible, corrigez les défauts ci-dessous avant de vous fier au modèle.",
    "E": "Note E : données inutilisables en l'état.",
}


def _day(ts: pd.Timestamp) -> str:
    ts = pd.Timestamp(ts)
    return ts.date().isoformat() if ts == ts.normalize() else ts.strftime("%Y-%m-%d %H:%M")
