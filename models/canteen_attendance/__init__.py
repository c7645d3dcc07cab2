"""Library entry ``canteen_attendance``: forecast school-canteen meals two weeks ahead.

The central kitchen orders meals 2–3 weeks in advance and children must eat. The kitchen
states a **safety level** in its own words ("at most N short days per month", per canteen or
for the whole city); the model forecasts the median attendance from features known
``horizon_days`` before the day and raises it by a margin calibrated on rolling-origin
backtests of the training period, so that the promise holds on days it never saw. It is
judged on over-production **and** short days against the agents' forecast and naive
baselines, with its empirical coverage beside the nominal one.

Typical use (the notebook does exactly this)::

    data, report = load_with_report(data_path, column_map, quick=quick)  # real Nantes file
    train, test = split(data, test_months=4)                 # (sample when quick)
    feats = features(data, horizon_days=14)                  # once, for every step below
    model = fit(train, short_days_per_month=2.5, feats=feats)
    forecasts = forecast_table(model, data, train, test, feats=feats)
    scores = evaluate(model, data, train, test, forecasts=forecasts)
    curve = safety_tradeoff(model, data, test, feats=feats)

Modules (the same in every entry): ``data`` (reading, validation, canonical table, quality,
split), ``features``, ``model`` (median model, backtests, conformal safety margin),
``baselines``,
``evaluation`` (scores, ``metrics.json``, output tables), ``plots``, ``reference`` (reference
model and card; ``python -m models.reference_cli canteen_attendance``) and ``sample`` (seeded
generator of the committed sample).
"""

from __future__ import annotations

from .baselines import AGENTS, ENROLMENT, NAIVE
from .data import (
    DEFAULT_TEST_MONTHS,
    ENTRY_ID,
    TITLE,
    city_wide,
    describe_source,
    load,
    load_with_report,
    quality,
    split,
    validate_file,
)
from .evaluation import (
    FORECAST_LABELS,
    comparison,
    coverage,
    coverage_text,
    errors_by_weekday,
    evaluate,
    forecast_table,
    metrics_payload,
    outputs,
    per_canteen,
    per_canteen_summary,
    realdata_figures,
    safety_tradeoff,
    score_forecasts,
)
from .features import features
from .model import (
    DEFAULT_HORIZON,
    DEFAULT_NETWORK_SHORT_DAYS_PER_MONTH,
    DEFAULT_SHORT_DAYS_PER_MONTH,
    MODEL_NAME,
    CanteenForecaster,
    SafetyLevel,
    SafetyLevelError,
    calibration_text,
    fit,
    predict,
)
from .reference import build_reference, load_reference


def generate_sample(*args, **kwargs):
    """The seeded sample of this entry (``sample.generate``, imported on first use)."""
    from .sample import generate

    return generate(*args, **kwargs)


__all__ = [
    "AGENTS",
    "DEFAULT_HORIZON",
    "DEFAULT_NETWORK_SHORT_DAYS_PER_MONTH",
    "DEFAULT_SHORT_DAYS_PER_MONTH",
    "DEFAULT_TEST_MONTHS",
    "ENROLMENT",
    "ENTRY_ID",
    "FORECAST_LABELS",
    "MODEL_NAME",
    "NAIVE",
    "TITLE",
    "CanteenForecaster",
    "SafetyLevel",
    "SafetyLevelError",
    "build_reference",
    "calibration_text",
    "city_wide",
    "comparison",
    "coverage",
    "coverage_text",
    "describe_source",
    "errors_by_weekday",
    "evaluate",
    "features",
    "fit",
    "forecast_table",
    "generate_sample",
    "load",
    "load_reference",
    "load_with_report",
    "metrics_payload",
    "outputs",
    "per_canteen",
    "per_canteen_summary",
    "predict",
    "quality",
    "realdata_figures",
    "safety_tradeoff",
    "score_forecasts",
    "split",
    "validate_file",
]
