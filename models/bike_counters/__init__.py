"""Library entry ``bike_counters``: anomaly detection in bike-counter data (Nantes layout).

Finds outages, partial days, spikes, scale-downs, stuck values and doubled counts in hourly
(Nantes Métropole's wide layout) or daily counts, gives each flagged hour or day a kind and a
corrected value (the expected count), and is judged against labelled events and against the
rules collectivités use today.

Typical use (the notebook does exactly this)::

    source = run_data(data_path, quick)                        # real Nantes file, or the sample
    frame, report = load_with_report(source, column_map)       # rows set aside, ids derived
    weather, events = companions(source)                       # the sample's weather and labels
    data = prepare(frame, counters, quick=quick)
    detection = run(data, weather, train_end=..., events=events)  # fit on the past, then flags
    scores = evaluate(data, detection, events)                 # model vs baselines
    protocol = injection_protocol(data, weather)               # recall / false alarms, unseen days

Modules (the same in every entry): ``data`` (readers, validation, counts per counter-day,
quality, labels per counter-day), ``features`` (calendar features, the days as arrays, evidence
and its normal scores), ``model`` (expected counts from peers and gradient boosting, flags,
thresholds from backtests, ``fit`` / ``predict``), ``baselines``, ``evaluation`` (scores,
French tables, ``metrics.json``, output tables, the injection protocol on real counts),
``plots``, ``reference`` (reference model and card; ``python -m models.reference_cli
bike_counters``) and ``sample`` (seeded generator of the committed sample, and the injection
of labelled anomalies into real counts).
"""

from __future__ import annotations

from .data import (
    ALIASES,
    COMPANIONS,
    ENTRY_ID,
    PATHS,
    SCHEMA,
    TITLE,
    CountData,
    companions,
    describe_data,
    load,
    load_labels,
    load_locations,
    load_weather,
    load_with_report,
    locations_for,
    prepare,
    quality,
    real_data_path,
    run_data,
    validate_file,
)
from .evaluation import (
    MODEL_NAME,
    agreement_table,
    anomalies_table,
    backtest_table,
    default_train_end,
    delay_table,
    evaluate,
    hourly_anomalies_table,
    injection_protocol,
    judged_part,
    kind_table,
    metrics_payload,
    outputs,
    protocol_table,
    realdata_protocol,
    summary_table,
    threshold_table,
)
from .model import KIND_LABELS, KINDS, Detection, Detector, fit, predict, run
from .reference import build_reference, load_reference


def generate_sample(*args, **kwargs):
    """The seeded sample of this entry (``sample.generate``, imported on first use)."""
    from .sample import generate

    return generate(*args, **kwargs)


__all__ = [
    "ALIASES",
    "COMPANIONS",
    "ENTRY_ID",
    "KINDS",
    "KIND_LABELS",
    "MODEL_NAME",
    "PATHS",
    "SCHEMA",
    "TITLE",
    "CountData",
    "Detection",
    "Detector",
    "agreement_table",
    "anomalies_table",
    "backtest_table",
    "build_reference",
    "companions",
    "default_train_end",
    "delay_table",
    "describe_data",
    "evaluate",
    "fit",
    "generate_sample",
    "hourly_anomalies_table",
    "injection_protocol",
    "judged_part",
    "kind_table",
    "load",
    "load_labels",
    "load_locations",
    "load_reference",
    "load_weather",
    "load_with_report",
    "locations_for",
    "metrics_payload",
    "outputs",
    "predict",
    "prepare",
    "protocol_table",
    "quality",
    "real_data_path",
    "realdata_protocol",
    "run",
    "run_data",
    "summary_table",
    "threshold_table",
    "validate_file",
]
