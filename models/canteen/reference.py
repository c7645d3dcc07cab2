"""Reference model of ``canteen_attendance``: build it from the sample, save it, load it.

The artifact holds the high-quantile ``HistGradientBoostingRegressor`` only (skops); the
feature list, horizon and quantile travel as JSON metadata inside the same file.
"""

from __future__ import annotations

from pathlib import Path

import sklearn
import sklearn.ensemble  # noqa: F401 - imported before the fit is timed (footprint)

import models.canteen_attendance as ca
from models.card import measure_footprint, render_card, write_card
from models.contract import entry_paths
from models.persist import load_metadata, load_model, save_model

INTENDED_USE = [
    "Prévoir, deux semaines à l'avance, le nombre de repas à commander pour chaque cantine "
    "scolaire, en visant un quantile haut de la fréquentation : les enfants doivent manger, "
    "on accepte donc un peu de surproduction pour limiter les jours de manque.",
    "Outil d'aide à la décision pour la cuisine centrale : la commande reste validée par les "
    "agents, qui connaissent les événements locaux (sorties, grèves annoncées).",
]
LIMITS = [
    "Entraîné et évalué ici sur un **échantillon généré** (30 cantines fictives) : les chiffres "
    "de cette fiche illustrent la méthode, ils ne garantissent rien sur une autre ville.",
    "Ne connaît ni les grèves ni les sorties scolaires : ces jours-là, la prévision des agents "
    "reste indispensable.",
    "Une nouvelle cantine n'a pas de prévision avant d'avoir quelques semaines d'historique.",
    "Le quantile choisi règle le compromis surproduction / jours de manque : à ajuster avec "
    "la cuisine centrale (voir la courbe du carnet).",
]
DATA_TEXT = (
    "Échantillon généré (`models/generators/canteen_attendance.py`, graine fixe) au format des "
    "données ouvertes de Nantes Métropole : 30 cantines, septembre 2015 – juillet 2019, "
    "calendrier réel (jours fériés, vacances zone B, pas de service le mercredi)."
)


def build(quick: bool = False, artifact: Path | None = None, card: Path | None = None) -> dict:
    """Train on the sample, score on its last months, write the skops file and the card."""
    paths = entry_paths(ca.ENTRY_ID)
    artifact = Path(artifact or paths.artifact)
    card = Path(card or paths.card)
    data = ca.load()
    train, test = ca.split(data, test_months=ca.DEFAULT_TEST_MONTHS)
    with measure_footprint() as footprint:
        model = ca.fit(train, quick=quick, quantiles=())
    _, scores, _ = ca.evaluate(model, data, train, test)
    parameters = {
        "horizon_days": model.horizon_days,
        "quantile": model.quantile,
        "test_months": ca.DEFAULT_TEST_MONTHS,
        "quick": quick,
    }
    payload = ca.metrics_document(ca.quality(data), test, scores, parameters)
    payload["data"]["description"] = DATA_TEXT
    save_model(
        model.estimators[model.quantile],
        artifact,
        metadata={
            "entry_id": ca.ENTRY_ID,
            "features": model.features,
            "horizon_days": model.horizon_days,
            "quantile": model.quantile,
            "trained_until": model.trained_until,
            "target": "ratio reel / base (moyenne même jour des 8 derniers jours connus)",
            "sklearn_version": sklearn.__version__,
        },
    )
    footprint["model_size_kb"] = artifact.stat().st_size / 1024
    text = render_card(
        ca.ENTRY_ID,
        title=ca.TITLE,
        intended_use=INTENDED_USE,
        data=payload["data"],
        metrics=payload,
        limits=LIMITS,
        footprint=footprint,
        metric_columns=list(ca.CARD_METRICS),
    )
    write_card(card, text)
    return {"artifact": artifact, "card": card, "metrics": payload}


def load(path: Path | None = None) -> ca.CanteenForecaster:
    """The reference model as a ``CanteenForecaster`` (types checked by ``load_model``)."""
    target = Path(path or entry_paths(ca.ENTRY_ID).artifact)
    meta = load_metadata(target)
    estimator = load_model(target)
    quantile = float(meta["quantile"])
    return ca.CanteenForecaster(
        estimators={quantile: estimator},
        features=list(meta["features"]),
        horizon_days=int(meta["horizon_days"]),
        quantile=quantile,
        trained_until=str(meta.get("trained_until", "")),
        metadata=meta,
    )
