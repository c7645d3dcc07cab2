"""The entry contract: where each part of a library entry lives, and how a run writes outputs.

An entry exists when ``notebooks/<id>.ipynb`` exists. Every other part is found from the id
(see ``docs/design.md``). ``write_outputs`` writes ``metrics.json`` and the tables of a
notebook run (the entry's ``outputs``) atomically; ``metrics_payload`` builds the
``metrics.json`` document.

Tables are opened by agents in a spreadsheet: ``neutralise_frame`` (applied by
``write_outputs``) prefixes with ``'`` every text cell and column name that begins with ``=``,
``+``, ``-``, ``@``, a tab or a carriage return, so that no cell is read as a formula (OWASP's
advice on CSV injection); numbers, negative ones included, stay numbers.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

# Where each part of an entry lives: pandas-free, re-exported here for existing callers.
from models.entries import REPO_ROOT, EntryPaths, entry_ids, entry_paths
from models.io import _NUMBER

__all__ = [
    "REPO_ROOT",
    "EntryPaths",
    "entry_ids",
    "entry_paths",
    "METRICS_NAME",
    "metrics_payload",
    "neutralise_cell",
    "neutralise_frame",
    "to_jsonable",
    "write_outputs",
]


METRICS_NAME = "metrics.json"
SET_ASIDE_FILE = "lignes_ecartees.csv"
"""The rows set aside from the user's file, beside the outputs (``models.acceptance``)."""

#: First characters a spreadsheet may read as the start of a formula (OWASP, CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise_cell(value: Any) -> Any:
    """``value`` with a leading ``'`` when it is text a spreadsheet would read as a formula.

    Numbers, and text that is only a number (``-3``, ``+1,5``), are returned unchanged.
    """
    if not isinstance(value, str) or not value.startswith(FORMULA_STARTS):
        return value
    if _NUMBER.match(value):  # a number written as text (-3, +1,5): left as it is
        return value
    return "'" + value


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells and column names cannot start a formula."""
    out = frame.copy()
    for column in out.columns:
        series = out[column]
        if pd.api.types.is_numeric_dtype(series) or pd.api.types.is_datetime64_any_dtype(series):
            continue
        if isinstance(series.dtype, pd.CategoricalDtype):
            series = series.astype(object)
        out[column] = series.map(neutralise_cell)
    out.columns = [neutralise_cell(c) for c in out.columns]
    return out


def to_jsonable(value: Any) -> Any:
    """Convert numpy/pandas scalars, dates, paths, tuples and NaN into plain JSON values.

    NaN and infinities become ``None`` (JSON has no NaN).
    """
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [to_jsonable(v) for v in value]
    if isinstance(value, np.ndarray | pd.Series | pd.Index):
        return [to_jsonable(v) for v in value.tolist()]
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        f = float(value)
        return f if math.isfinite(f) else None
    if isinstance(value, pd.Timestamp):
        if pd.isna(value):
            return None
        if value == value.normalize() and value.tz is None:
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, np.datetime64):
        return to_jsonable(pd.Timestamp(value))
    if isinstance(value, Path):
        return str(value)
    if value is pd.NaT or value is pd.NA:
        return None
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict):
        return to_jsonable(to_dict())
    return str(value)


def _period(value: Any) -> dict[str, Any]:
    if value is None:
        return {"start": None, "end": None}
    if isinstance(value, dict):
        return {"start": to_jsonable(value.get("start")), "end": to_jsonable(value.get("end"))}
    start, end = value
    return {"start": to_jsonable(pd.Timestamp(start)), "end": to_jsonable(pd.Timestamp(end))}


def _data_section(quality: Any) -> dict[str, Any]:
    if quality is None:
        return {"rows": 0, "period": [None, None], "grade": None, "reasons": [], "summary": {}}
    q = quality.to_dict() if hasattr(quality, "to_dict") else dict(quality)
    q = to_jsonable(q)
    out = {
        "rows": q.get("rows", 0),
        "period": q.get("period", [None, None]),
        "grade": q.get("grade"),
        "reasons": q.get("reasons", []),
        "summary": q.get("summary", {}),
    }
    if q.get("acceptance") is not None:
        out["acceptance"] = q["acceptance"]
    return out


def metrics_payload(
    entry_id: str,
    *,
    quality: Any,
    test_period: Any,
    model_name: str,
    model_metrics: dict[str, Any],
    baselines: dict[str, dict[str, Any]] | None = None,
    parameters: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Build the ``metrics.json`` document (shape in ``docs/design.md``).

    ``quality`` is a ``QualityReport`` (or its ``to_dict()``); ``test_period`` a
    ``(start, end)`` pair or ``{"start", "end"}``; ``baselines`` maps a baseline name to its
    metrics dict (or already to ``{"metrics": {...}}``). The result is JSON-serialisable.
    """
    base_section = {}
    for name, metrics in (baselines or {}).items():
        if isinstance(metrics, dict) and set(metrics) == {"metrics"}:
            metrics = metrics["metrics"]
        base_section[str(name)] = {"metrics": to_jsonable(metrics)}
    return {
        "entry_id": entry_id,
        "data": _data_section(quality),
        "test_period": _period(test_period),
        "model": {"name": model_name, "metrics": to_jsonable(model_metrics)},
        "baselines": base_section,
        "parameters": to_jsonable(parameters or {}),
    }


def _split_set_aside(metrics: dict[str, Any]) -> tuple[dict[str, Any], pd.DataFrame | None]:
    """``metrics`` without the rows set aside, and those rows as the CSV table (or ``None``)."""
    from models.acceptance import SET_ASIDE_COLUMNS

    data = metrics.get("data") if isinstance(metrics, dict) else None
    acceptance = data.get("acceptance") if isinstance(data, dict) else None
    if acceptance is None:
        return metrics, None
    if hasattr(acceptance, "to_dict"):
        acceptance = acceptance.to_dict()
    acceptance = dict(acceptance)
    rows = acceptance.pop("set_aside", None) or []
    table = pd.DataFrame(list(rows), columns=list(SET_ASIDE_COLUMNS))
    return {**metrics, "data": {**data, "acceptance": acceptance}}, table


def write_outputs(
    output_dir: Path | str,
    metrics: dict[str, Any],
    tables: pd.DataFrame | Mapping[str, pd.DataFrame],
    *,
    predictions_name: str = "predictions.csv",
    extra: Mapping[str, pd.DataFrame] | None = None,
) -> dict[str, Path]:
    """Write ``metrics.json`` and the tables of a run (CSV) into ``output_dir``.

    ``tables``: the entry's ``outputs(...)`` (file name → table), or one predictions table
    written as ``predictions_name``; ``extra`` adds tables (``.csv`` appended when missing).
    When ``metrics["data"]["acceptance"]`` lists the rows set aside from the user's file
    (``models.acceptance``), they are written as ``lignes_ecartees.csv`` (line, column,
    value, French reason; text neutralised against formula injection) and only their counts
    stay in ``metrics.json``.
    Text cells that a spreadsheet would read as formulas are neutralised (``neutralise_frame``).
    Atomic: everything is first written into a temporary folder inside ``output_dir`` (same
    file system), then each file is moved in place with ``os.replace``; ``metrics.json`` is
    moved last, so its presence means the run's outputs are complete. Returns the paths.
    """
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    metrics, set_aside = _split_set_aside(metrics)
    named = dict(tables) if isinstance(tables, Mapping) else {predictions_name: tables}
    if set_aside is not None:
        named = {**named, SET_ASIDE_FILE: set_aside}
    files: dict[str, pd.DataFrame] = {}
    for name, frame in {**named, **(extra or {})}.items():
        files[name if name.endswith(".csv") else f"{name}.csv"] = frame
    for name in files:
        if Path(name).name != name or name == METRICS_NAME:
            raise ValueError(f"invalid output file name: {name!r}")
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-outputs-", dir=out))
    written: dict[str, Path] = {}
    try:
        for name, frame in files.items():
            # RFC 4180 line ends: a carriage return inside a cell is then quoted, not a row end
            neutralise_frame(frame).to_csv(
                tmp / name, index=False, encoding="utf-8", lineterminator="\r\n"
            )
        text = json.dumps(to_jsonable(metrics), ensure_ascii=False, indent=2, allow_nan=False)
        (tmp / METRICS_NAME).write_text(text + "\n", encoding="utf-8")
        for name in [*files, METRICS_NAME]:
            os.replace(tmp / name, out / name)
            written[name] = out / name
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return written
