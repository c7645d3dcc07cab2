"""Data of the ``canteen_attendance`` entry: reading, validation, canonical table, quality.

A canteen file (Nantes Métropole layout ``site_type, date, prevision, reel, site_nom``, plus
``site_id``, ``effectif`` and ``menu`` when present; other spellings of the column names in
``ALIASES``) is read by ``models.io.read_table``, checked against
``datasets/canteen_attendance/schema.json`` and turned by ``prepare`` into the canonical
frame: one row per series (canteen, or the whole city when there is no site column) and
service day. ``split`` cuts it in time (training, then test); ``city_wide`` adds the canteens
of each day into one series, as a file without canteen column would give.

Without a path, the demonstrator reads the real Nantes Métropole file shipped in
``datasets/canteen_attendance/`` (``REAL_DATA``); quick mode and the tests read the generated
sample.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import numpy as np
import pandas as pd

from models.entries import entry_paths
from models.errors import DataReadError

ENTRY_ID = "canteen_attendance"
TITLE = "Prévision de la fréquentation des cantines scolaires"
SCHEMA = entry_paths(ENTRY_ID).schema
DEFAULT_TEST_MONTHS = 4
ALIASES: dict[str, list[str]] = {
    "site_id": ["id_site", "code_site", "id_cantine", "code_cantine", "identifiant_site"],
    "site_nom": ["nom_site", "nom_cantine", "cantine", "restaurant", "nom_restaurant", "ecole"],
    "site_type": ["type_site", "type", "type_ecole", "type_restaurant"],
    "date": ["jour", "date_repas", "date_service", "date_du_repas"],
    "reel": ["reels", "frequentation", "repas_servis", "nb_repas", "convives", "nombre_convives"],
    "prevision": ["prevu", "previsions", "prevision_agents", "repas_prevus", "repas_commandes"],
    "effectif": ["effectifs", "inscrits", "nb_inscrits", "nombre_inscrits"],
    "menu": ["menus", "plat", "plat_principal", "type_menu"],
}
TEXT_COLUMNS = ("site_id", "site_nom", "site_type", "menu")
REQUIRED_COLUMNS = ("date", "reel")
"""Columns a file cannot do without (``reel`` is what the model learns)."""
NETWORK_SERIES = "reseau"
"""Series name of a file without a site column (the whole city)."""
REAL_DATA = entry_paths(ENTRY_ID).dataset_dir / "nantes_frequentation.csv.gz"
"""Meals per canteen and day, Nantes Métropole open data, 2011–2018 (see the datasheet)."""


def site_key(name: object, site_type: object = None) -> str:
    """Stable key of a canteen from its name (and type): capitals, no accents or punctuation.

    ``"Chêne d'Aron"`` and ``"CHENE DARON"`` give the same key, so typos in the apostrophes
    and accents of the real file do not split a canteen in two.
    """
    text = unicodedata.normalize("NFKD", str(name))
    text = "".join(c for c in text if not unicodedata.combining(c)).upper()
    text = re.sub(r"['’`.]", "", text)
    text = re.sub(r"[^A-Z0-9/]+", " ", text).strip()
    if site_type is not None and not (isinstance(site_type, float) and np.isnan(site_type)):
        kind = str(site_type).strip().upper()
        if kind and not text.endswith(f" {kind}"):
            text = f"{text} [{kind}]"
    return text


def prepare(df: pd.DataFrame) -> pd.DataFrame:
    """Canonical frame sorted by ``series`` then ``date``.

    Columns: ``series, site_id, site_nom, site_type, date, reel`` (float, NaN = missing) and,
    when present, ``prevision``, ``effectif`` (floats) and ``menu`` (text). Without a site
    column all rows form one series, ``reseau`` (rows of the same day are summed). Rows with
    no date are dropped; rows of the same (series, date) are merged (first present value of
    each column).
    """
    out = pd.DataFrame(index=df.index)
    out["date"] = pd.to_datetime(df["date"], errors="coerce").dt.normalize()
    for column in ("reel", "prevision", "effectif"):
        if column in df.columns:
            out[column] = pd.to_numeric(df[column], errors="coerce").astype(float)
    if "menu" in df.columns:
        out["menu"] = df["menu"].astype("string")
    out = out[out["date"].notna()]
    has_site = "site_id" in df.columns or "site_nom" in df.columns
    if not has_site:
        numeric = [c for c in ("reel", "prevision", "effectif") if c in out.columns]
        agg = {c: (lambda s: s.sum(min_count=1)) for c in numeric}
        if "menu" in out.columns:
            agg["menu"] = "first"
        out = out.groupby("date", as_index=False).agg(agg)
        out["series"] = NETWORK_SERIES
        out["site_id"] = NETWORK_SERIES
        out["site_nom"] = "Ensemble du réseau"
        out["site_type"] = "tous"
    else:
        types = df["site_type"] if "site_type" in df.columns else pd.Series(None, index=df.index)
        out["site_type"] = types.loc[out.index].astype("string").fillna("inconnu").str.strip()
        if "site_nom" in df.columns:
            out["site_nom"] = df.loc[out.index, "site_nom"].astype("string").str.strip()
        else:
            out["site_nom"] = df.loc[out.index, "site_id"].astype("string")
        if "site_id" in df.columns:
            out["site_id"] = df.loc[out.index, "site_id"].astype("string").str.strip()
        else:
            pairs = list(zip(out["site_nom"], out["site_type"], strict=True))
            keys = {pair: site_key(*pair) for pair in dict.fromkeys(pairs)}  # once per pair
            out["site_id"] = [keys[pair] for pair in pairs]
        out["series"] = out["site_id"].astype(str)
    out = out.sort_values(["series", "date"], kind="stable")
    if out.duplicated(["series", "date"]).any():
        # The real file splits some days over two spellings of a name (prevision on one row,
        # reel on the other): merge them, keeping the first present value of each column.
        out = out.groupby(["series", "date"], as_index=False, sort=True).first()
    out = out.reset_index(drop=True)
    first = ["series", "site_id", "site_nom", "site_type", "date", "reel"]
    rest = [c for c in ("prevision", "effectif", "menu") if c in out.columns]
    return out[first + rest]


def default_data(quick: bool = True) -> Path:
    """The file read without ``data_path``: the sample in quick mode, else the real file."""
    return entry_paths(ENTRY_ID).sample if quick else REAL_DATA


def describe_source(data_path=None, quick: bool = True) -> str:
    """French sentence naming the data a run shows (``load_with_report``'s choice)."""
    if data_path is not None:
        return f"Données : votre fichier « {data_path} »."
    if quick:
        return (
            "Données : échantillon **généré** (30 cantines fictives, 2015-2019), mode rapide ; "
            "les chiffres illustrent la méthode, pas une vraie ville."
        )
    return (
        "Données : **vraies données ouvertes de Nantes Métropole** (repas prévus et servis par "
        "cantine et par jour, 2011-2018, fichier livré nantes_frequentation.csv.gz)."
    )


def city_wide(frame: pd.DataFrame) -> pd.DataFrame:
    """The canonical frame of the whole city: the canteens of each day added into one series
    (``reel`` and ``prevision``: sums of the values present), like ``prepare`` does for a file
    without canteen column."""
    numeric = [c for c in ("reel", "prevision", "effectif") if c in frame.columns]
    return prepare(frame[["date", *numeric]])


def _read(data_path, column_map, quick=True):
    from models.io import read_table

    source = default_data(quick) if data_path is None else data_path
    return read_table(
        source,
        column_map=column_map or None,
        aliases=ALIASES,
        text_columns=TEXT_COLUMNS,
        date_columns=("date",),
    )


MIN_DAYS = 120
"""Fewest service days the model can learn from and be judged on: about 60 service days of
test (``DEFAULT_TEST_MONTHS``), then at least 50 observed days after ``DEFAULT_HORIZON`` days
of history for training (``model.fit``)."""


def _accepted(data_path, column_map, min_share, quick=True):
    """Read, validate and accept a file (``models.acceptance``): ``(canonical, report)``;
    the canonical frame is ``None`` when the file is refused."""
    from models.acceptance import accept, require_rows, titles_of
    from models.validation import load_schema, validate

    schema = load_schema(SCHEMA)
    raw = _read(data_path, column_map, quick)
    report = validate(raw, schema)
    site = ["site_id"] if "site_id" in raw.columns else ["site_nom", "site_type"]
    key = [*site, "date"] if any(c in raw.columns for c in site) else []
    kept = accept(
        raw, report, key=key, date_columns=("date",), min_share=min_share, titles=titles_of(schema)
    )
    if not report.usable:
        return None, report
    if "reel" not in raw.columns:
        listing = ", ".join(f"« {c} »" for c in raw.columns)
        raise DataReadError(
            "Colonne des repas servis introuvable (« reel »). Colonnes du fichier : "
            f"{listing}. Indiquez la correspondance, par exemple column_map = "
            '{"nom de votre colonne": "reel"}.'
        )
    frame = prepare(kept)
    require_rows(
        report, int(frame["date"].nunique()), MIN_DAYS, ("jour de service", "jours de service")
    )
    frame.attrs["rows_read"] = len(raw)
    frame.attrs["duplicates_dropped"] = int(len(kept) - len(frame))
    frame.attrs["acceptance"] = report.acceptance
    return frame, report


def validate_file(path, column_map=None, min_share=None):
    """Report of a file against ``datasets/canteen_attendance/schema.json``: problems, rows
    that would be set aside, refusal (``models.acceptance``)."""
    return _accepted(path, column_map, min_share)[1]


def load_with_report(data_path=None, column_map=None, min_share=None, *, quick=True):
    """Read, validate, accept and put into canonical form (``prepare``) a canteen file:
    ``(frame, report)``.

    ``data_path`` None reads ``default_data(quick)``: the generated sample in quick mode (the
    default, for tests), the real Nantes file otherwise (the notebook passes its ``quick``).
    The file is read once: the notebook shows the report and uses the frame. Rows with a
    problem are set aside (``report.acceptance``, ``lignes_ecartees.csv``) while at least
    ``min_share`` of the rows are usable (``None`` = ``models.acceptance.DEFAULT_MIN_SHARE``).
    Raises ``DataReadError`` / ``DataValidationError`` (French messages) when the file cannot
    be used.
    """
    frame, report = _accepted(data_path, column_map, min_share, quick)
    report.raise_if_refused()
    return frame, report


def load(data_path=None, column_map=None, min_share=None, *, quick=True) -> pd.DataFrame:
    """The canonical frame of ``load_with_report`` without the report."""
    return load_with_report(data_path, column_map, min_share, quick=quick)[0]


def quality(frame: pd.DataFrame):
    """Data-quality report (``models.quality``) of a canonical frame (``load_with_report``)."""
    from models.calendar import french_calendar
    from models.quality import quality_report

    # the calendar of the whole period once (quality_report asks once per canteen)
    days = pd.date_range(frame["date"].min(), frame["date"].max(), freq="D")
    cal = french_calendar(days, zone="B").reindex(days)
    is_closed = cal["is_public_holiday"].fillna(False) | cal["is_school_vacation"].fillna(False)
    closed = days[is_closed.to_numpy(bool)]

    def service_days(index: pd.DatetimeIndex):
        shut = index.normalize().isin(closed)
        return ~shut & np.isin(index.day_of_week, [0, 1, 3, 4])

    values = [c for c in ("reel", "prevision", "effectif") if c in frame.columns]
    return quality_report(
        frame,
        date_column="date",
        value_columns=values,
        series_column="series",
        expected_weekdays=[0, 1, 3, 4],
        expected=service_days,
    )


def split(
    frame: pd.DataFrame,
    *,
    test_months: int | None = DEFAULT_TEST_MONTHS,
    test_start: str | None = None,
    test_end: str | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Time split: the test set is ``[test_start, test_end]`` or the last ``test_months``."""
    if test_start is None:
        last = frame["date"].max()
        start = last - pd.DateOffset(months=int(test_months)) + pd.Timedelta(days=1)
    else:
        start = pd.Timestamp(test_start)
    end = pd.Timestamp(test_end) if test_end is not None else frame["date"].max()
    train = frame[frame["date"] < start]
    test = frame[(frame["date"] >= start) & (frame["date"] <= end)]
    return train, test
