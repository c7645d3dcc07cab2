"""Evaluation of ``canteen_attendance``: scores, comparison tables, ``metrics.json``, outputs.

``evaluate`` scores the model and the baselines on the test period: per canteen-day,
for the whole network, and per canteen.

All forecasts are scored on the same rows: actual attendance present and above zero (closed
days are not attendance) and every compared forecast present. Definitions:

- ``over_production_pct``: meals cooked in excess (sum over canteen-days of
  ``max(forecast - actual, 0)``) / actual meals × 100 — an excess in one canteen cannot feed
  another one;
- ``short_days``: canteen-days with ``forecast < actual`` (children without a planned meal);
- ``*_network``: the same on the daily network totals (``short_days_network`` = days when the
  whole network was short);
- ``coverage_pct``: share of the scored rows where the forecast was enough (100 minus the
  short-day rate), to set beside the model's nominal coverage (its safety level);
- ``meals_saved_vs_agents``: meals ordered by the agents minus meals ordered by the forecast;
  ``waste_avoided_vs_agents``: agents' excess meals minus the forecast's excess meals.

``safety_tradeoff`` tabulates what other safety levels gave on the backtests (and on the test
period, for information); ``realdata_figures`` runs the whole entry on a file with a time
split and returns the figures of ``benchmarks/realdata.py``, per canteen and for the city.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from models import contract
from models import metrics as m

from . import baselines as bl
from .baselines import AGENTS, ENROLMENT, NAIVE
from .data import ENTRY_ID
from .model import MODEL_NAME, CanteenForecaster, predict, predict_levels

FORECAST_LABELS = {
    MODEL_NAME: "Modèle (médiane + marge de sécurité calibrée)",
    AGENTS: "Prévision des agents",
    NAIVE: "Moyenne même jour, 8 semaines (J-21)",
    ENROLMENT: "Ratio semaine × effectif",
}


def common_mask(frame: pd.DataFrame, forecasts: dict[str, pd.Series]) -> pd.Series:
    """Rows where the actual value is above zero and every forecast is present."""
    mask = frame["reel"].notna() & (frame["reel"] > 0)
    for values in forecasts.values():
        mask &= pd.Series(values, index=frame.index).notna()
    return mask


def _scores(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    return {
        "mae": float(m.mae(y, p)),
        "mape": float(m.mape(y, p)),
        "over_production_pct": float(m.over_production_pct(y, p)),
        "short_days": int(m.short_days(y, p)),
        "coverage_pct": float(100 - m.short_days(y, p) / len(y) * 100) if len(y) else np.nan,
    }


def score_forecasts(
    frame: pd.DataFrame, forecasts: dict[str, pd.Series], agents: str | None = None
) -> dict[str, dict[str, float]]:
    """Scores of each forecast (see the module docstring), on the common rows.

    ``agents`` names the agents' forecast in ``forecasts`` (for the meals-saved figures).
    """
    mask = common_mask(frame, forecasts)
    rows = frame[mask]
    y = rows["reel"].to_numpy(float)
    totals = rows.groupby("date")["reel"].sum()
    result: dict[str, dict[str, float]] = {}
    agents_values = None
    if agents is not None and agents in forecasts:
        agents_values = pd.Series(forecasts[agents], index=frame.index)[mask].to_numpy(float)
    for name, values in forecasts.items():
        p = pd.Series(values, index=frame.index)[mask].to_numpy(float)
        scores = _scores(y, p)
        net = pd.Series(p, index=rows.index).groupby(rows["date"]).sum()
        net_scores = _scores(totals.to_numpy(float), net.to_numpy(float))
        scores.update({f"{k}_network": v for k, v in net_scores.items()})
        scores["n_rows"] = int(len(y))
        scores["n_days"] = int(len(totals))
        scores["meals_actual"] = float(y.sum())
        scores["meals_ordered"] = float(p.sum())
        if agents_values is not None:
            excess = np.clip(p - y, 0, None).sum()
            agents_excess = np.clip(agents_values - y, 0, None).sum()
            scores["meals_saved_vs_agents"] = float(agents_values.sum() - p.sum())
            scores["waste_avoided_vs_agents"] = float(agents_excess - excess)
        result[name] = scores
    return result


def per_canteen(frame: pd.DataFrame, forecasts: dict[str, pd.Series]) -> pd.DataFrame:
    """One row per canteen and forecast: ``mae, mape, over_production_pct, short_days, n_days``.

    Same definitions as ``models.metrics`` (on the common rows every actual is above zero),
    computed with one grouped aggregation per forecast rather than a loop over canteens.
    """
    mask = common_mask(frame, forecasts)
    rows = frame[mask]
    y = rows["reel"].to_numpy(float)
    series = rows["series"].to_numpy()
    names = rows.drop_duplicates("series").set_index("series")["site_nom"]
    tables = []
    for position, (name, values) in enumerate(forecasts.items()):
        p = pd.Series(values, index=frame.index)[mask].to_numpy(float)
        parts = pd.DataFrame(
            {
                "series": series,
                "abs": np.abs(p - y),
                "rel": np.abs(p - y) / y,
                "excess": np.clip(p - y, 0, None),
                "y": y,
                "short": p < y,
            }
        )
        g = parts.groupby("series", sort=True).agg(
            mae=("abs", "mean"),
            rel=("rel", "mean"),
            excess=("excess", "sum"),
            y=("y", "sum"),
            short_days=("short", "sum"),
            n_days=("y", "size"),
        )
        table = pd.DataFrame(
            {
                "series": g.index,
                "site_nom": names.reindex(g.index).to_numpy(),
                "forecast": name,
                "mae": g["mae"].to_numpy(float),
                "mape": g["rel"].to_numpy(float) * 100,
                "over_production_pct": (g["excess"] / g["y"] * 100).to_numpy(float),
                "short_days": g["short_days"].to_numpy("int64"),
                "n_days": g["n_days"].to_numpy("int64"),
                "_order": position,
            }
        )
        tables.append(table)
    if not tables or not len(rows):
        columns = ["series", "site_nom", "forecast", "mae", "mape"]
        return pd.DataFrame(columns=[*columns, "over_production_pct", "short_days", "n_days"])
    out = pd.concat(tables, ignore_index=True)
    out = out.sort_values(["series", "_order"], kind="stable").drop(columns="_order")
    return out.reset_index(drop=True)


def per_canteen_summary(table: pd.DataFrame) -> pd.DataFrame:
    """Mean over canteens of each per-canteen score, one row per forecast."""
    cols = ["mae", "mape", "over_production_pct", "short_days"]
    return table.groupby("forecast", sort=False)[cols].mean()


def errors_by_weekday(frame: pd.DataFrame, forecasts: dict[str, pd.Series]) -> pd.DataFrame:
    """Mean absolute error per weekday (rows) and forecast (columns), on the common rows."""
    mask = common_mask(frame, forecasts)
    rows = frame[mask]
    days = ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"]
    weekday = rows["date"].dt.day_of_week.map(dict(enumerate(days)))
    table = pd.DataFrame(
        {
            name: (pd.Series(values, index=frame.index)[mask] - rows["reel"]).abs()
            for name, values in forecasts.items()
        }
    )
    out = table.groupby(weekday).mean()
    return out.reindex([d for d in days if d in out.index])


def forecast_table(
    model: CanteenForecaster,
    data: pd.DataFrame,
    train: pd.DataFrame,
    test: pd.DataFrame,
    *,
    feats: pd.DataFrame | None = None,
) -> dict[str, pd.Series]:
    """Model and baseline forecasts of the ``test`` rows (index of ``test``)."""
    forecasts = {MODEL_NAME: predict(model, data, feats=feats, index=test.index)}
    agents = bl.agents_forecast(test)
    if agents is not None:
        forecasts[AGENTS] = agents
    forecasts[NAIVE] = bl.same_weekday_mean(data).loc[test.index]
    ratio = bl.enrolment_ratio(test, bl.fit_enrolment_ratio(train))
    if ratio is not None:
        forecasts[ENROLMENT] = ratio
    return forecasts


def evaluate(
    model: CanteenForecaster,
    data: pd.DataFrame,
    train: pd.DataFrame,
    test: pd.DataFrame,
    *,
    feats: pd.DataFrame | None = None,
    forecasts: dict[str, pd.Series] | None = None,
) -> dict[str, dict]:
    """Scores of the model and of every baseline on the ``test`` rows, by forecast name.

    ``forecasts``: the result of ``forecast_table`` when already computed (else computed
    here, with ``feats`` when given).
    """
    if forecasts is None:
        forecasts = forecast_table(model, data, train, test, feats=feats)
    agents = AGENTS if AGENTS in forecasts else None
    return score_forecasts(test, forecasts, agents=agents)


TRADEOFF_COLUMNS = {
    "short_days_per_month": "jours_de_manque_par_mois",
    "nominal_coverage": "couverture_visee_pct",
    "level": "niveau_conforme_pct",
    "backtest_over_production_pct": "surproduction_essais_pct",
    "backtest_short_days_per_month": "manques_par_mois_essais",
}


def safety_tradeoff(
    model: CanteenForecaster,
    data: pd.DataFrame | None = None,
    test: pd.DataFrame | None = None,
    *,
    feats: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per safety level of ``model.curve`` (French column names).

    The backtest columns are what drove the choice (margins learnt on earlier blocks of the
    training period, measured on later ones). With ``data`` and ``test``: the same levels on
    the test period too, for information only (nothing is chosen on it):
    ``surproduction_test_pct``, ``jours_de_manque_test``, ``couverture_test_pct`` and
    ``manques_par_mois_test``.
    """
    table = pd.DataFrame(model.curve)
    model_levels = list(table["level"]) if len(table) else []
    if table.empty:
        return pd.DataFrame(columns=list(TRADEOFF_COLUMNS.values()))
    table["retenu"] = np.isclose(
        table["short_days_per_month"], model.safety.short_days_per_month
    ) & np.isclose(table["level"], model.level)
    table["nominal_coverage"] *= 100
    table["level"] *= 100
    if data is not None and test is not None:
        mask = test["reel"].notna() & (test["reel"] > 0)
        levels = [float(v) for v in model_levels]
        preds = predict_levels(model, data, levels, feats=feats, index=test.index)
        measured = []
        for level in levels:
            s = score_forecasts(test[mask], {"m": preds[level][mask]})["m"]
            measured.append((s["over_production_pct"], s["short_days"], s["coverage_pct"]))
        table["surproduction_test_pct"] = [v[0] for v in measured]
        table["jours_de_manque_test"] = [v[1] for v in measured]
        table["couverture_test_pct"] = [v[2] for v in measured]
        days = model.safety.days_per_month
        table["manques_par_mois_test"] = (100 - table["couverture_test_pct"]) / 100 * days
    return table.drop(columns="met").rename(columns=TRADEOFF_COLUMNS)


def comparison(scores: dict[str, dict], per_canteen_table: pd.DataFrame | None = None):
    """French comparison table (one row per forecast) of the main scores."""
    keys = {
        "mae": "MAE (repas/cantine/jour)",
        "mape": "MAPE (%)",
        "over_production_pct": "Surproduction (%)",
        "short_days": "Jours de manque (cantine-jours)",
        "over_production_pct_network": "Surproduction réseau (%)",
        "short_days_network": "Jours de manque réseau",
        "coverage_pct": "Couverture (%)",
        "meals_saved_vs_agents": "Repas économisés vs agents",
    }
    table = pd.DataFrame({FORECAST_LABELS.get(n, n): s for n, s in scores.items()}).T
    table = table[[k for k in keys if k in table.columns]].rename(columns=keys)
    if per_canteen_table is not None and len(per_canteen_table):
        summary = per_canteen_summary(per_canteen_table)
        summary.index = [FORECAST_LABELS.get(n, n) for n in summary.index]
        table["MAE moyenne par cantine"] = summary["mae"]
        table["MAPE moyen par cantine (%)"] = summary["mape"]
    return table.astype(float).round(2)


CARD_METRICS = (
    "mae",
    "mape",
    "over_production_pct",
    "short_days",
    "over_production_pct_network",
    "short_days_network",
)


def metrics_payload(
    quality_report,
    test: pd.DataFrame,
    scores: dict[str, dict],
    parameters: dict,
    model: CanteenForecaster | None = None,
) -> dict:
    """The ``metrics.json`` document (``models.contract.metrics_payload``) of a run.

    With ``model``: a ``coverage`` section (nominal coverage of the safety level beside the
    empirical one on the test period, conformal level, the level in the kitchen's words) and
    a ``calibration`` section (the backtests that set the margin).
    """
    model_metrics = dict(scores[MODEL_NAME])
    if model is not None:
        model_metrics["coverage_nominal_pct"] = model.safety.nominal_coverage * 100
    payload = contract.metrics_payload(
        ENTRY_ID,
        quality=quality_report,
        test_period=(test["date"].min(), test["date"].max()),
        model_name=MODEL_NAME,
        model_metrics=model_metrics,
        baselines={name: s for name, s in scores.items() if name != MODEL_NAME},
        parameters=parameters,
    )
    if model is not None:
        payload["coverage"] = contract.to_jsonable(coverage(model, scores[MODEL_NAME]))
        payload["calibration"] = contract.to_jsonable(model.backtest)
    return payload


def coverage(model: CanteenForecaster, model_scores: dict) -> dict:
    """Nominal coverage of the safety level beside the empirical one (``model_scores``: the
    model's ``score_forecasts`` entry on the test period)."""
    safety = model.safety
    empirical = model_scores.get("coverage_pct", np.nan)
    return {
        "nominal_pct": safety.nominal_coverage * 100,
        "empirical_pct": empirical,
        "gap_points": empirical - safety.nominal_coverage * 100,
        "level_pct": model.level * 100,
        "short_days_per_month": safety.short_days_per_month,
        "empirical_short_days_per_month": (100 - empirical) / 100 * safety.days_per_month,
        "days_per_month": safety.days_per_month,
        "scope": safety.scope,
        "text": safety.text(),
    }


def coverage_text(model: CanteenForecaster, scores: dict[str, dict]) -> str:
    """French sentence: the promised coverage beside the one measured on the test period."""
    from models.quality import fmt_fr

    cover = coverage(model, scores[MODEL_NAME])
    rows = "cantine-jours" if cover["scope"] == "cantine" else "jours"
    return (
        f"Couverture visée : {fmt_fr(cover['nominal_pct'], 1)} % des {rows} ; mesurée sur la "
        f"période de test : {fmt_fr(cover['empirical_pct'], 1)} % (écart "
        f"{fmt_fr(cover['gap_points'], 1)} points), soit "
        f"{fmt_fr(cover['empirical_short_days_per_month'], 2)} jours de manque par mois pour "
        f"{fmt_fr(cover['short_days_per_month'], 2)} promis."
    )


def outputs(
    test: pd.DataFrame,
    forecasts: dict[str, pd.Series],
    median: pd.Series | None = None,
    per_canteen_table: pd.DataFrame | None = None,
    tradeoff: pd.DataFrame | None = None,
) -> dict[str, pd.DataFrame]:
    """Tables written beside ``metrics.json``, by file name.

    ``predictions.csv``: date, canteen, actual meals, the median forecast when given and every
    forecast of ``forecasts``; ``par_cantine.csv`` (``per_canteen``) and
    ``compromis_niveau_securite.csv`` (``safety_tradeoff``) when given.
    """
    tables = {"predictions.csv": _predictions(test, forecasts, median)}
    if per_canteen_table is not None:
        tables["par_cantine.csv"] = per_canteen_table
    if tradeoff is not None:
        tables["compromis_niveau_securite.csv"] = tradeoff
    return tables


def _predictions(
    test: pd.DataFrame, forecasts: dict[str, pd.Series], median: pd.Series | None
) -> pd.DataFrame:
    out = test[["date", "site_id", "site_nom", "site_type", "reel"]].copy()
    if median is not None:
        out["modele_mediane"] = median.loc[test.index]
    for name, values in forecasts.items():
        out[name] = pd.Series(values, index=test.index)
    return out.sort_values(["date", "site_id"], kind="stable").reset_index(drop=True)


# ------------------------------------------------------------------ real-data benchmark

FIGURE_KEYS = ("mae", "over_production_pct", "short_days", "coverage_pct")


def realdata_figures(
    data_path=None,
    cutoff: str = "2018-09-01",
    *,
    months: int = 4,
    column_map: dict | None = None,
    **fit_params,
) -> dict:
    """Figures of the entry on a file, trained before ``cutoff`` and judged on the following
    ``months`` months, **per canteen** (the file as is) and **for the city** (``city_wide``:
    the file added up by date into one series, as a file without canteen column).

    ``data_path`` None: the real Nantes file. ``fit_params`` go to ``model.fit`` (safety
    levels, ``use_agents``...). For each view: MAE, over-production %, short days and
    coverage of the model and of each baseline (plus network totals and the mean of short
    days per canteen), nominal and empirical coverage, and the figures the entry must reach: model
    over-production below the agents', short days at most the agents' + 1 per 50 scored rows,
    empirical coverage within 5 points of the nominal one.
    """
    from .data import city_wide, load, split
    from .features import features
    from .model import fit

    start = pd.Timestamp(cutoff)
    end = start + pd.DateOffset(months=int(months)) - pd.Timedelta(days=1)
    frame = load(data_path, column_map, quick=False)
    result = {"file": str(data_path or "nantes_frequentation.csv.gz"), "cutoff": str(start.date())}
    for view, data in (("per_canteen", frame), ("network", city_wide(frame))):
        train, test = split(data, test_start=str(start.date()), test_end=str(end.date()))
        feats = features(data)
        model = fit(train, feats=feats, **fit_params)
        forecasts = forecast_table(model, data, train, test, feats=feats)
        scores = evaluate(model, data, train, test, forecasts=forecasts)
        result["test_period"] = [str(test["date"].min().date()), str(test["date"].max().date())]
        result[view] = _view_figures(model, test, forecasts, scores)
    return result


def _view_figures(model, test, forecasts, scores) -> dict:
    summary = per_canteen_summary(per_canteen(test, forecasts))
    table = {}
    for name, s in scores.items():
        table[name] = {k: s[k] for k in FIGURE_KEYS}
        table[name]["over_production_pct_network"] = s["over_production_pct_network"]
        table[name]["short_days_network"] = s["short_days_network"]
        table[name]["mean_short_days_per_canteen"] = float(summary.loc[name, "short_days"])
    mine = scores[MODEL_NAME]
    cover = coverage(model, mine)
    out = {
        "rows": mine["n_rows"],
        "days": mine["n_days"],
        "series": int(test["series"].nunique()),
        "safety": model.safety.text(),
        "nominal_coverage_pct": cover["nominal_pct"],
        "empirical_coverage_pct": cover["empirical_pct"],
        "level_pct": cover["level_pct"],
        "uses_agents": model.backtest["uses_agents"],
        "forecasts": table,
        "checks": {"coverage_within_5_points": abs(cover["gap_points"]) <= 5},
    }
    if AGENTS in scores:
        agents = scores[AGENTS]
        allowed = agents["short_days"] + mine["n_rows"] / 50
        out["allowed_short_days"] = allowed
        out["checks"]["over_production_below_agents"] = (
            mine["over_production_pct"] < agents["over_production_pct"]
        )
        out["checks"]["short_days_within_agents_plus_1_per_50"] = mine["short_days"] <= allowed
    return out


def figures_table(results: list[dict]) -> pd.DataFrame:
    """One row per cut-off, view and forecast of ``realdata_figures`` results (French)."""
    rows = []
    for result in results:
        for view, label in (("per_canteen", "par cantine"), ("network", "ville (réseau)")):
            fig = result[view]
            for name, s in fig["forecasts"].items():
                is_model = name == MODEL_NAME
                rows.append(
                    {
                        "coupure": result["cutoff"],
                        "vue": label,
                        "prévision": name,
                        "MAE": s["mae"],
                        "surproduction %": s["over_production_pct"],
                        "jours de manque": s["short_days"],
                        "manque moyen par cantine": s["mean_short_days_per_canteen"],
                        "couverture %": s["coverage_pct"],
                        "couverture visée %": fig["nominal_coverage_pct"] if is_model else None,
                        "manques autorisés": fig.get("allowed_short_days") if is_model else None,
                        "lignes": fig["rows"],
                    }
                )
    return pd.DataFrame(rows)


def main(argv: list[str] | None = None) -> int:
    """``python -m models.canteen_attendance.evaluation [--data FILE] [--months 4] [--json]
    [CUTOFF ...]``: the real-data figures table (default: the Nantes file, cut-offs
    2018-09-01 and 2017-09-01)."""
    import argparse
    import json

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("cutoffs", nargs="*", default=["2018-09-01", "2017-09-01"])
    parser.add_argument("--data", default=None)
    parser.add_argument("--months", type=int, default=4)
    parser.add_argument("--no-agents", action="store_true", help="sans la prévision des agents")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    results = [
        realdata_figures(args.data, c, months=args.months, use_agents=not args.no_agents)
        for c in args.cutoffs
    ]
    if args.json:
        print(json.dumps(contract.to_jsonable(results), ensure_ascii=False, indent=2))
        return 0
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(figures_table(results).round(2).to_string(index=False))
    for result in results:
        for view in ("per_canteen", "network"):
            fig = result[view]
            print(f"{result['cutoff']} {view}: {fig['safety']} ; contrôles : {fig['checks']}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
