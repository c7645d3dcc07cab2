"""Library entry ``air_quality``: anticipate air-pollution peaks one day ahead.

For a chosen station and pollutant (PM10, PM2.5, NO2, O3), forecast on the evening of day D
the value of D+1 — the daily mean, or for NO2/O3 the daily maximum of hourly values when the
data has it — and the probability of crossing the information threshold, from what is known
on that evening only. Baselines: persistence and monthly climatology. Readers of the real
layouts (hourly wide with the 75 % completeness rule, daily wide, long) are in ``data``.

Typical use (the notebook does exactly this)::

    daily, report = load_with_report(data_path, column_map, quick=quick)
    result = run(daily, station, pollutant, threshold=None, quick=quick)
    result.scores, result.test_table                      # model vs persistence vs climatology

Without ``data_path``, full runs read the real Airparif NO2 and O3 hourly files shipped in
``datasets/air_quality/`` (the demonstration is on Île-de-France stations; the method is the
one Lille's project needs) and quick runs the generated Lille sample. ``station_scores``
scores every station of a file at once (real-data benchmarks).

Modules (the same in every entry): ``data`` (readers, validation, quality, stations),
``features``, ``model`` (forecaster, probability, alert, ``fit`` / ``predict``),
``baselines``, ``evaluation`` (``run``, scores, ``metrics.json``, output tables), ``plots``,
``reference`` (reference model and card; ``python -m models.reference_cli air_quality``) and
``sample`` (seeded generator of the committed sample).
"""

from __future__ import annotations

from .data import (
    DEFAULT_POLLUTANT,
    DEFAULT_STATION,
    ENTRY_ID,
    SCHEMA,
    TITLE,
    default_data,
    default_pollutant,
    describe_source,
    load,
    load_with_report,
    quality,
    read_air_quality,
    stations,
    validate_file,
)
from .evaluation import (
    MODEL_NAME,
    Result,
    alert_rule_text,
    comparison,
    evaluate,
    gain_over_persistence,
    metrics_payload,
    outputs,
    run,
    setting_text,
    station_scores,
)
from .model import fit, predict, test_year
from .reference import build_reference, load_reference


def generate_sample(*args, **kwargs):
    """The seeded sample of this entry (``sample.generate``, imported on first use)."""
    from .sample import generate

    return generate(*args, **kwargs)


__all__ = [
    "DEFAULT_POLLUTANT",
    "DEFAULT_STATION",
    "ENTRY_ID",
    "MODEL_NAME",
    "SCHEMA",
    "TITLE",
    "Result",
    "alert_rule_text",
    "build_reference",
    "comparison",
    "default_data",
    "default_pollutant",
    "describe_source",
    "evaluate",
    "fit",
    "gain_over_persistence",
    "generate_sample",
    "load",
    "load_reference",
    "load_with_report",
    "metrics_payload",
    "outputs",
    "predict",
    "quality",
    "read_air_quality",
    "run",
    "setting_text",
    "station_scores",
    "stations",
    "test_year",
    "validate_file",
]
