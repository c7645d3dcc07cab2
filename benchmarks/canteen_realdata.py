"""Figures of canteen_attendance on the real Nantes file, test period September–December 2018.

Usage: ``.venv/bin/python benchmarks/canteen_realdata.py [path/to/frequentation.csv]``
(default ``../shared/realdata/canteen/frequentation.csv``). Prints JSON: network-level and
mean per-canteen MAE, MAPE, over-production % and short days of the agents' forecast, the
naive baseline and the model, plus the trade-off curve (median model + calibrated margins,
``models.canteen.tradeoff``) over quantile levels.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import models.canteen_attendance as ca
from models.contract import to_jsonable

DEFAULT = Path(__file__).resolve().parents[1] / ".." / "shared" / "realdata" / "canteen"
KEYS = ("mae", "mape", "over_production_pct", "short_days", "n_rows")
NETWORK_KEYS = ("mae_network", "mape_network", "over_production_pct_network", "short_days_network")


def main(path: Path) -> dict:
    start = time.perf_counter()
    data = ca.load(path)
    train, test = ca.split(data, test_start="2018-09-01", test_end="2018-12-31")
    feats = ca.features(data, ca.DEFAULT_HORIZON)
    model = ca.fit(train, quantiles=(), calibrate=True, feats=feats)
    forecasts, scores, by_canteen = ca.evaluate(model, data, train, test, feats=feats)
    summary = ca.per_canteen_summary(by_canteen)
    result = {
        "file": str(path),
        "test_period": [str(test["date"].min().date()), str(test["date"].max().date())],
        "canteens": int(test["series"].nunique()),
        "days": int(test["date"].nunique()),
        "quantile": model.quantile,
        "horizon_days": model.horizon_days,
        "canteen_days": {n: {k: scores[n][k] for k in KEYS} for n in scores},
        "network": {n: {k: scores[n][k] for k in NETWORK_KEYS} for n in scores},
        "mean_per_canteen": summary.round(3).to_dict(orient="index"),
        "meals_saved_vs_agents": scores[ca.MODEL_NAME].get("meals_saved_vs_agents"),
        "waste_avoided_vs_agents": scores[ca.MODEL_NAME].get("waste_avoided_vs_agents"),
        "training_rows": model.metadata.get("training_rows"),
        "calibration": model.calibration,
        "tradeoff": ca.quantile_tradeoff(model, data, test, feats=feats)
        .round(3)
        .to_dict(orient="records"),
        "seconds": round(time.perf_counter() - start, 1),
    }
    return to_jsonable(result)


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT / "frequentation.csv"
    print(json.dumps(main(target), ensure_ascii=False, indent=2))
