"""The bike_counters model (expected counts from peers, scores, thresholds chosen by backtests)
and its baselines, on controlled counts of several counters.

``score_series`` (one series against a given expected count) is gone: the detector now learns
each counter's expectation from its peers on a training period and checks later days, so the
behaviours its tests pinned (each kind found and named, unpublished hours, sensitivity, daily
and hourly data, fit + predict = run, outputs) are tested here on generated counters.
"""

import numpy as np
import pandas as pd
import pytest

from models.bike_counters import baselines as bl
from models.bike_counters import evaluation as ev
from models.bike_counters import model as md
from models.bike_counters.data import CountData
from models.bike_counters.model import detect, fit, predict
from models.bike_counters.sample import WEEKDAY_PROFILE, inject_anomalies_into
from models.errors import DataReadError

TRAIN_END = pd.Timestamp("2022-06-30")
"""The controlled counts run from 2022-01-03 for 240 days: training to the end of June."""


def _count_data(n_counters=8, days=240, seed=1):
    """Counters sharing a daily factor (weather, holidays) with their own level and noise."""
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2022-01-03", periods=days, freq="D")
    weekday = dates.day_of_week.to_numpy()
    shared = np.exp(rng.normal(0, 0.15, days)) * np.where(weekday >= 5, 0.7, 1.2)
    frames, blocks = [], []
    for c in range(n_counters):
        daily = 120 * (c + 1) * shared * np.exp(rng.normal(0, 0.05, days))
        lam = daily[:, None] * WEEKDAY_PROFILE[None, :]
        blocks.append(rng.poisson(lam * rng.gamma(40, 1 / 40, lam.shape)).astype(float))
        frames.append(
            pd.DataFrame({"counter_id": f"0{c:03d}", "counter_name": f"C{c}", "date": dates})
        )
    return CountData(pd.concat(frames, ignore_index=True), np.vstack(blocks), "hourly")


@pytest.fixture(scope="module")
def clean():
    return _count_data()


@pytest.fixture(scope="module")
def detector(clean):
    return fit(clean, quick=True, train_end=TRAIN_END)


def _rows(data, counter="0005"):
    return np.flatnonzero(data.days["counter_id"] == counter)


def test_clean_days_after_training_are_rarely_flagged(clean, detector):
    days = predict(detector, clean).days
    later = days["date"] > TRAIN_END
    assert later.sum() == 8 * 61
    assert days.loc[later, "flag"].mean() < 0.02
    assert detector.backtest["folds"] == 2  # quick mode: two rolling origins
    assert detector.train_period == ("2022-01-03", "2022-06-30")


@pytest.mark.parametrize(
    ("kind", "day", "n_days"),
    [
        ("panne", 200, 4),
        ("journee_partielle", 205, 1),
        ("pic", 210, 1),
        ("sous_comptage", 190, 6),
        ("valeur_bloquee", 215, 1),
        ("double_comptage", 220, 5),
    ],
)
def test_each_kind_is_found_and_named(clean, detector, kind, day, n_days):
    data = CountData(clean.days.copy(), clean.values.copy(), "hourly")
    rows = _rows(data)[day : day + n_days]
    if kind == "panne":
        data.values[rows] = 0
    elif kind == "journee_partielle":
        data.values[rows, 9:13] = np.nan
    elif kind == "pic":
        data.values[rows, 8:13] = np.round(data.values[rows, 8:13] * 3)
    elif kind == "sous_comptage":
        data.values[rows] = np.round(data.values[rows] * 0.3)
    elif kind == "valeur_bloquee":
        data.values[rows, 7:20] = 37
    else:
        data.values[rows] = data.values[rows] * 2
    days = predict(detector, data).days
    assert days.loc[rows, "flag"].all()
    assert days.loc[rows, "kind"].mode().iloc[0] == kind
    assert (days.loc[rows, "score"] >= 1).all()
    around = _rows(data)[day - 20 : day + n_days + 20]
    around = np.setdiff1d(around, _rows(data)[day - 1 : day + n_days + 1])
    assert days.loc[around, "flag"].mean() < 0.05


def test_unpublished_hours_and_the_clock_change_are_not_gaps():
    data = _count_data(days=240)
    last = np.flatnonzero(data.days["date"] == data.days["date"].max())
    data.values[last, 17:] = np.nan  # the file's last day, not yet published after 16h
    spring = np.flatnonzero(data.days["date"] == pd.Timestamp("2022-03-27"))
    data.values[spring, 2] = np.nan  # 02:00 does not exist that night
    gap = _rows(data)[150]
    data.values[gap, 3] = np.nan  # a real missing hour
    days = detect(data, None, quick=True, train_end=TRAIN_END).days
    assert not days.loc[last, "flag"].any()
    assert not days.loc[spring, "flag"].any()
    assert days.loc[gap, "flag"] and days.loc[gap, "kind"] == "journee_partielle"


def test_a_spike_of_a_few_hours_adds_up_its_two_pieces_of_evidence(clean, detector):
    """``both_up`` is never below ``day_up``; on a day whose afternoon hours are doubled, the
    day total and the window both go up and ``both_up`` is their sum over √2, above either."""
    from models.bike_counters.features import component_scores

    data = CountData(clean.days.copy(), clean.values.copy(), "hourly")
    row = _rows(data)[200]
    data.values[row, 15:18] = np.round(data.values[row, 15:18] * 2.2)
    evidence = md.evidence_of(detector.expected, detector.peers, data)
    scores = component_scores(evidence, detector.day_scales, detector.shape_scales)
    assert (scores["both_up"] >= scores["day_up"]).all()
    day = scores.iloc[row]
    assert day["day_up"] > 0 and day["shape_up"] > 0
    assert day["both_up"] > max(day["day_up"], day["shape_up"])
    assert day["both_up"] == pytest.approx((day["day_up"] + day["shape_up"]) / np.sqrt(2))
    assert 15 <= day["shape_start"] and day["shape_start"] + day["shape_length"] >= 17


def test_sensitivity_changes_the_number_of_flags(clean, detector):
    data = CountData(clean.days.copy(), clean.values.copy(), "hourly")
    rows = _rows(data, "0002")[180:186]
    data.values[rows] = np.round(data.values[rows] * 0.7)
    low = predict(detector, data, sensitivity=0.5).days["flag"].sum()
    high = predict(detector, data, sensitivity=2.0).days["flag"].sum()
    assert high > low
    with pytest.raises(DataReadError, match="sensibilité"):
        predict(detector, data, sensitivity=50)


def test_detect_end_to_end_hourly_and_daily():
    data = _count_data()
    rows = _rows(data, "0003")
    data.values[rows[200:204]] *= 3  # four days of spikes ×3
    data.values[rows[220:223]] = 0  # three days of outage
    det = detect(data, None, quick=True, train_end=TRAIN_END)
    assert det.days.loc[rows[200:204], "flag"].all() and det.days.loc[rows[220:223], "flag"].all()
    assert (det.days.loc[rows[200:204], "kind"] == "pic").all()
    assert (det.days.loc[rows[220:223], "kind"] == "panne").all()
    # corrected value = expected for the flagged days, observed otherwise
    corrected = det.days.loc[rows[200:204], "corrected"].to_numpy()
    assert np.all(corrected < det.days.loc[rows[200:204], "count"].to_numpy() * 0.6)
    assert det.hours is not None and len(det.hours) == 24 * len(det.days)

    daily = CountData(data.days.copy(), data.values.sum(axis=1, keepdims=True), "daily")
    ddet = detect(daily, None, quick=True, train_end=TRAIN_END)
    assert ddet.hours is None
    assert ddet.days.loc[rows[220:223], "flag"].all()
    assert ddet.days.loc[rows[200:204], "flag"].all()
    later = (ddet.days["date"] > TRAIN_END).to_numpy()
    normal = later.copy()
    normal[rows[198:226]] = False
    assert ddet.days["flag"][normal].mean() < 0.03


def test_baselines_and_labels():
    data = _count_data(n_counters=2, days=30)
    values = data.values
    values[5:9] = 0  # four zero days for counter 0000
    values[20, 8:12] = np.nan
    flags = bl.zero_days_rule(data.days, values)
    assert flags[5:9].all() and flags.sum() == 4
    hours_rule = bl.zero_missing_hours_rule(values)
    assert hours_rule[20] and hours_rule[5]
    assert bl.isolation_forest(data.days, values).mean() == pytest.approx(0.05, abs=0.02)
    events = pd.DataFrame(
        {
            "counter_id": ["0000", "0001"],
            "start": pd.to_datetime(["2022-01-08 00:00", "2022-01-10 21:00"]),
            "end": pd.to_datetime(["2022-01-12 00:00", "2022-01-11 12:00"]),
            "kind": ["panne", "pic"],
            "injected": ["zéro", "multipliée"],
        }
    )
    truth = ev.day_labels(data.days, events)
    assert (truth.iloc[5:9] == "panne").all()
    second = data.days.index[data.days["counter_id"] == "0001"]
    assert truth.loc[second[7]] == ev.IGNORE  # 21h–24h: too few daytime hours
    assert truth.loc[second[8]] == "pic"
    scores = ev.detection_scores(truth, flags)
    assert scores["by_kind"]["panne"]["recall"] == 1.0
    assert scores["by_kind"]["pic"]["recall"] == 0.0


def test_fit_then_predict_gives_the_detection_of_run(clean):
    det = detect(clean, None, quick=True, train_end=TRAIN_END)
    model = fit(clean, quick=True, train_end=TRAIN_END)
    assert sorted(model.expected.profiles) == sorted(clean.days["counter_id"].unique())
    pd.testing.assert_frame_equal(predict(model, clean).days, det.days)
    restored = md.Detector.from_state(model.to_state())
    pd.testing.assert_frame_equal(predict(restored, clean).days, det.days)


def test_thresholds_do_not_depend_on_the_judged_period(clean, detector):
    """Everything ``fit`` chooses comes from the training period: wrecking the later days
    (outages, spikes, stuck values everywhere) changes nothing of it."""
    wrecked = CountData(clean.days.copy(), clean.values.copy(), "hourly")
    later = (wrecked.days["date"] > TRAIN_END).to_numpy()
    rng = np.random.default_rng(7)
    wrecked.values[later] = np.round(wrecked.values[later] * rng.uniform(0, 4, (later.sum(), 1)))
    wrecked.values[later & (wrecked.days["counter_id"] == "0001").to_numpy(), 8:] = 5
    again = fit(wrecked, quick=True, train_end=TRAIN_END)
    assert again.thresholds == detector.thresholds
    assert again.backtest == detector.backtest
    for counter, scale in detector.day_scales.items():
        np.testing.assert_array_equal(again.day_scales[counter], scale)
        np.testing.assert_array_equal(again.shape_scales[counter], detector.shape_scales[counter])
    # while the training period does change them
    shaken = CountData(clean.days.copy(), clean.values.copy(), "hourly")
    early = (shaken.days["date"] <= TRAIN_END).to_numpy()
    shaken.values[early] = np.round(shaken.values[early] * rng.uniform(0.5, 1.5, (early.sum(), 1)))
    other = fit(shaken, quick=True, train_end=TRAIN_END)
    assert any(not np.array_equal(other.day_scales[c], s) for c, s in detector.day_scales.items())


def test_choose_thresholds_trades_recall_for_false_alarms():
    """One score separates spikes from normal days: the greedy stops at the strictest rung
    that meets the recall goal, then every threshold goes down for free while it stays
    ``FREE_MARGIN`` times above the normal days' scores of its component."""
    rng = np.random.default_rng(0)
    n_normal, n_spike = 2000, 100
    scores = pd.DataFrame({c: rng.normal(0, 1, n_normal + n_spike) for c in md.COMPONENTS})
    scores["day_up"] = np.r_[rng.normal(0, 1, n_normal), rng.uniform(10.5, 20, n_spike)]
    truth = np.r_[np.full(n_normal, ""), np.full(n_spike, "pic")].astype(object)
    normal = truth == ""
    thresholds, summary = md.choose_thresholds(
        scores, np.zeros(len(truth), dtype=bool), truth, normal
    )
    for c in md.COMPONENTS:
        ceiling = md.FREE_MARGIN * scores.loc[normal, c].max()
        assert thresholds[c] > ceiling
        lower = [r * md.LADDER_UNIT[c] for r in md.LADDER if r * md.LADDER_UNIT[c] < thresholds[c]]
        assert not lower or max(lower) <= ceiling  # the next rung down would come near them
    assert thresholds["day_up"] <= 10
    assert summary["recall"]["pic"] == 1.0
    assert summary["false_alarm_rate"] == 0.0


def test_outputs_are_the_counter_day_and_flagged_hour_tables(clean, detector):
    from models.bike_counters import outputs

    data = CountData(clean.days.copy(), clean.values.copy(), "hourly")
    data.values[_rows(data)[200], 8:12] = np.nan  # a partial day
    det = predict(detector, data)
    tables = outputs(det)
    assert list(tables) == ["anomalies.csv", "anomalies_horaires.csv"]
    assert len(tables["anomalies.csv"]) == len(det.days)
    assert len(tables["anomalies_horaires.csv"]) == int(det.hours["flag"].sum()) >= 4


def test_injected_anomalies_stay_in_the_judged_period(clean):
    first, last = pd.Timestamp("2022-07-01"), pd.Timestamp("2022-08-28")
    injected, events = inject_anomalies_into(clean, first, last, seed=3)
    again, same = inject_anomalies_into(clean, first, last, seed=3)
    pd.testing.assert_frame_equal(events, same)
    np.testing.assert_array_equal(injected.values, again.values)
    assert (events["start"] >= first).all() and (events["end"] <= last + pd.Timedelta(days=1)).all()
    outside = ((clean.days["date"] < first) | (clean.days["date"] > last)).to_numpy()
    np.testing.assert_array_equal(injected.values[outside], clean.values[outside])
    # four slots of two weeks per counter, the kinds taking turns
    assert events.groupby("counter_id").size().max() == 4
    assert set(events["kind"]) == set(md.KINDS)
    # labelled days are avoided
    avoid = events.iloc[:3]
    _, third = inject_anomalies_into(clean, first, last, seed=4, avoid=avoid)
    labelled = ev.day_labels(clean.days, avoid).to_numpy() != ""
    hit = ev.day_labels(clean.days, third).to_numpy() != ""
    assert not (labelled & hit).any()


def test_injection_protocol_reports_recall_and_false_alarms(clean, detector):
    result = ev.injection_protocol(clean, train_end=TRAIN_END, detector=detector, seed=1)
    assert result["judged_period"] == ("2022-07-01", "2022-08-30")
    recall = result["recall"]
    assert set(recall) == set(md.KINDS)
    assert sum(r["events"] for r in recall.values()) == len(result["events"]) > 0
    assert recall["panne"]["recall"] == 1.0
    assert result["false_alarm_rate"] < 0.05 and result["normal_days"] > 300
    table = ev.protocol_table(result)
    assert table.index[-1] == "Fausses alertes (jours normaux)"
    # the model and the baselines on the same injected counter-days and normal days
    compared = ev.protocol_comparison(result)
    assert set(compared) == {"model", *bl.baseline_flags(clean.days, clean.values)}
    assert compared["model"]["false_alarm_rate"] == result["false_alarm_rate"]
    assert compared["model"]["recall_pic"] == recall["pic"]["recall"]
    assert compared["model"]["recall"] > compared["regle_3_jours_a_zero"]["recall"]
    with pytest.raises(DataReadError, match="période jugée"):
        ev.injection_protocol(clean, train_end="2022-05-31", detector=detector)


def test_false_alarms_are_split_by_the_length_of_their_run_of_flagged_days():
    dates = pd.date_range("2022-01-03", periods=10, freq="D")
    flags = {
        "A": [1, 1, 1, 1, 1, 1, 0, 0, 1, 0],  # a run of 6, then one isolated day
        "B": [0, 1, 1, 1, 0, 0, 0, 0, 0, 0],  # a run of 3
    }
    days = pd.concat(
        [
            pd.DataFrame({"counter_id": c, "date": dates, "flag": np.array(f, bool)})
            for c, f in flags.items()
        ],
        ignore_index=True,
    ).sample(frac=1.0, random_state=0)  # the order of the rows does not matter
    runs = pd.Series(ev.flagged_runs(days), index=days.index).sort_index().to_numpy()
    assert runs.tolist() == [6] * 6 + [0, 0, 1, 0] + [0, 3, 3, 3] + [0] * 6
    normal = np.ones(len(days), dtype=bool)
    split = ev.alarm_episodes(days, normal)
    assert split == {"long": 6 / 20, "medium": 3 / 20, "short": 1 / 20}
    assert sum(split.values()) == pytest.approx(days["flag"].mean())
