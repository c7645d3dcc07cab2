"""French presentation of figures: the number format and the labels of the metric keys.

Pandas-free, so that the catalog service shows the last CI run's metrics without importing
the data stack; the cards, reports and validation messages use the same two pieces
(``models.quality.fmt_fr`` and ``models.metrics.METRIC_LABELS`` are these).
"""

from __future__ import annotations

import math
from numbers import Integral
from typing import Any


def fmt_fr(value: Any, decimals: int = 1) -> str:
    """French number: narrow no-break space for thousands, decimal comma (``12 345,6``)."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    if isinstance(value, Integral) or float(value).is_integer() and decimals == 0:
        text = f"{int(value):,}"
    else:
        text = f"{float(value):,.{decimals}f}"
    return text.replace(",", "\u202f").replace(".", ",")


METRIC_LABELS: dict[str, str] = {
    "mae": "MAE",
    "rmse": "RMSE",
    "mape": "MAPE (%)",
    "mape_ignored_zeros": "Réels nuls ignorés (MAPE)",
    "over_production_pct": "Surproduction (%)",
    "short_days": "Jours de manque",
    "over_production_pct_network": "Surproduction réseau (%)",
    "short_days_network": "Jours de manque (réseau)",
    "atmo_accuracy": "Exactitude de la classe ATMO",
    "n": "Lignes évaluées",
    "precision": "Précision",
    "recall": "Rappel",
    "f1": "F1",
    "csi": "CSI",
    "far": "Taux de fausses alertes",
    "tp": "Vrais positifs",
    "fp": "Fausses alertes",
    "fn": "Épisodes manqués",
    "tn": "Vrais négatifs",
    "false_alarm_rate": "Fausses alertes (jours normaux)",
    "flagged_share": "Part des jours signalés",
    "recall_panne": "Rappel pannes",
    "recall_pic": "Rappel pics",
    "recall_sous_comptage": "Rappel sous-comptages",
    "recall_valeur_bloquee": "Rappel valeurs bloquées",
    "recall_double_comptage": "Rappel doubles comptages",
    "coverage_pct": "Couverture mesurée (%)",
    "coverage_pct_network": "Couverture mesurée, réseau (%)",
    "coverage_nominal_pct": "Couverture visée (%)",
    "mae_network": "MAE réseau",
    "mape_network": "MAPE réseau (%)",
    "n_rows": "Lignes évaluées",
    "n_days": "Jours évalués",
    "meals_actual": "Repas servis",
    "meals_ordered": "Repas commandés",
    "meals_saved_vs_agents": "Repas économisés face aux agents",
    "waste_avoided_vs_agents": "Gaspillage évité face aux agents",
    "threshold_days": "Jours au-dessus du seuil",
    "brier": "Score de Brier",
    "mae_gain_vs_persistence": "Gain de MAE sur la persistance",
    "n_units": "Unités évaluées",
    "n_anomalous": "Unités anormales",
    "kind_accuracy": "Type d'anomalie juste",
    "flagged_counter_days": "Jours compteur signalés",
    "counter_days": "Jours compteur",
}
"""French labels of the metric keys, for tables shown to users."""
