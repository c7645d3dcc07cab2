"""French model cards, filled from measured metrics (the ``metrics.json`` payload).

A card has the sections *Usage prévu*, *Données*, *Performances face aux références* (a
Markdown table: the model and each baseline, one column per metric), *Limites* and
*Empreinte de calcul*. ``measure_footprint`` measures the latter around a training run.
"""

from __future__ import annotations

import os
import resource
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd

from models.fsutil import write_text
from models.metrics import comparison_table
from models.quality import fmt_fr

WATTS_PER_CORE = 15.0
"""Assumed power draw of one busy CPU core, for the energy estimate (hypothesis, stated)."""


def markdown_table(table: pd.DataFrame, *, index: bool = True, decimals: int = 2) -> str:
    """A DataFrame as a Markdown table, numbers in French format (no extra dependency)."""
    frame = table.reset_index() if index else table
    integral = {
        c: bool(
            pd.api.types.is_numeric_dtype(frame[c])
            and not pd.api.types.is_bool_dtype(frame[c])
            and (frame[c].dropna() % 1 == 0).all()
        )
        for c in frame.columns
    }

    def cell(v: Any, column: Any) -> str:
        if v is None or (isinstance(v, float) and pd.isna(v)):
            return "—"
        if isinstance(v, bool):
            return "oui" if v else "non"
        if isinstance(v, int | float):
            return fmt_fr(v, 0 if integral[column] else decimals)
        return str(v).replace("|", "\\|").replace("\n", " ")

    header = "| " + " | ".join(str(c) for c in frame.columns) + " |"
    rule = "|" + "|".join("---" for _ in frame.columns) + "|"
    body = [
        "| " + " | ".join(cell(v, c) for v, c in zip(row, frame.columns, strict=True)) + " |"
        for row in frame.itertuples(index=False)
    ]
    return "\n".join([header, rule, *body])


@contextmanager
def measure_footprint() -> Iterator[dict[str, Any]]:
    """Measure wall time, CPU time, peak memory and an energy estimate of the ``with`` block.

    Yields a dict filled on exit: ``wall_seconds``, ``cpu_seconds``, ``peak_memory_mb`` (peak
    resident memory of the process so far), ``energy_wh`` (CPU seconds × ``WATTS_PER_CORE``),
    ``cpu_count``.
    """
    result: dict[str, Any] = {}
    start_wall, start_cpu = time.perf_counter(), time.process_time()
    try:
        yield result
    finally:
        cpu = time.process_time() - start_cpu
        result.update(
            wall_seconds=time.perf_counter() - start_wall,
            cpu_seconds=cpu,
            peak_memory_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            energy_wh=cpu * WATTS_PER_CORE / 3600,
            cpu_count=os.cpu_count(),
        )


def performance_table(metrics: Mapping[str, Any], *, columns: Sequence[str] | None = None) -> str:
    """Markdown table model vs baselines from a ``metrics.json`` payload."""
    model = metrics.get("model", {})
    rows = {f"{model.get('name', 'modèle')} (modèle)": model.get("metrics", {})}
    for name, base in (metrics.get("baselines") or {}).items():
        rows[f"{name} (référence)"] = base.get("metrics", base)
    table = comparison_table(rows, columns=list(columns) if columns else None)
    return markdown_table(table)


def _as_list(value: str | Sequence[str] | None) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else [str(v) for v in value]


def _data_section(data: Any) -> list[str]:
    if isinstance(data, str):
        return [data]
    data = dict(data or {})
    out: list[str] = []
    if data.get("description"):
        out += [str(data["description"]), ""]
    period = data.get("period") or [None, None]
    if data.get("rows") is not None:
        out.append(f"- Lignes : {fmt_fr(data['rows'], 0)}")
    if period and period[0]:
        out.append(f"- Période couverte : du {period[0]} au {period[1]}")
    if data.get("grade"):
        out.append(f"- Note de qualité des données : **{data['grade']}**")
    out += [f"  - {reason}" for reason in data.get("reasons", [])]
    return out


def _footprint_section(footprint: Mapping[str, Any] | None) -> list[str]:
    if not footprint:
        return ["Non mesurée."]
    labels = [
        ("wall_seconds", "Durée d'entraînement", "s", 1),
        ("cpu_seconds", "Temps de calcul (CPU)", "s", 1),
        ("peak_memory_mb", "Mémoire maximale", "Mo", 0),
        ("model_size_kb", "Taille du fichier de modèle", "Ko", 0),
        ("cpu_count", "Cœurs disponibles", "", 0),
    ]
    out = []
    for key, label, unit, decimals in labels:
        if footprint.get(key) is not None:
            out.append(f"- {label} : {fmt_fr(footprint[key], decimals)} {unit}".rstrip())
    if footprint.get("energy_wh") is not None:
        out.append(
            f"- Énergie estimée : {fmt_fr(footprint['energy_wh'], 3)} Wh (hypothèse : "
            f"{fmt_fr(WATTS_PER_CORE, 0)} W par cœur occupé)"
        )
    for key, value in footprint.items():
        if key not in {k for k, *_ in labels} | {"energy_wh"}:
            out.append(f"- {key} : {value}")
    return out


def render_card(
    entry_id: str,
    *,
    title: str,
    intended_use: str | Sequence[str],
    data: Any,
    metrics: Mapping[str, Any],
    limits: str | Sequence[str],
    footprint: Mapping[str, Any] | None = None,
    metric_columns: Sequence[str] | None = None,
) -> str:
    """The French model card (Markdown) of ``entry_id``.

    ``data`` is a French text or a dict like ``metrics["data"]`` (``rows``, ``period``,
    ``grade``, ``reasons``, optional ``description``); ``metrics`` the ``metrics.json``
    payload (model, baselines, test period, parameters); ``limits`` one text or a list;
    ``footprint`` as measured by ``measure_footprint`` (plus optional ``model_size_kb``);
    ``metric_columns`` picks the metric keys shown in the table.
    """
    model = metrics.get("model", {})
    test = metrics.get("test_period") or {}
    lines = [
        f"# Fiche modèle : {title}",
        "",
        f"Entrée de la bibliothèque : `{entry_id}` — modèle : {model.get('name', '—')}.",
        "",
        "## Usage prévu",
        "",
        *_as_list(intended_use),
        "",
        "## Données",
        "",
        *_data_section(data if data is not None else metrics.get("data")),
        "",
        "## Performances face aux références",
        "",
    ]
    if test.get("start"):
        lines += [f"Période de test : du {test['start']} au {test['end']}.", ""]
    lines += [performance_table(metrics, columns=metric_columns), ""]
    params = metrics.get("parameters") or {}
    if params:
        shown = ", ".join(f"`{k}` = {v}" for k, v in params.items())
        lines += [f"Paramètres : {shown}.", ""]
    lines += ["## Limites", "", *(f"- {item}" for item in _as_list(limits)), ""]
    lines += ["## Empreinte de calcul", "", *_footprint_section(footprint), ""]
    return "\n".join(lines)


def write_card(path: Path | str, text: str) -> Path:
    """Write the card atomically (temporary file, then ``os.replace``)."""
    return write_text(path, text if text.endswith("\n") else text + "\n")
