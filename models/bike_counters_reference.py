"""Reference model of ``bike_counters``: fitted on the committed sample, saved with skops.

The artifact holds the expected-count model as plain values (the gradient-boosting regressor,
counter ids, trends and hourly profiles) — no custom class, so ``models.persist.load_model``
loads it with the shared trusted-type list. The French card reports the measured scores on the
sample's labels for the model and each baseline.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from models.card import measure_footprint, render_card, write_card
from models.persist import DEFAULT_TRUSTED, load_model, save_model

TRUSTED = (
    *DEFAULT_TRUSTED,
    # HistGradientBoostingRegressor(categorical_features=...) keeps a partial of check_array
    "functools.partial",
    "sklearn.utils.validation.check_array",
)
"""Types the artifact may hold: the shared list plus what categorical boosting stores."""

INTENDED_USE = [
    "Repérer dans les comptages vélo (boucles magnétiques, données horaires ou journalières) "
    "les pannes, journées partielles, pics, sous-comptages, valeurs bloquées et doubles "
    "comptages, avant de calculer des totaux ou des tendances.",
    "Proposer une valeur corrigée (le comptage attendu) pour chaque heure ou jour signalé.",
    "Outil d'aide à la qualification des données : un agent valide les signalements.",
]
LIMITS = [
    "Le modèle apprend le comportement normal sur les données mêmes qu'il contrôle : une "
    "anomalie qui dure plusieurs mois, ou un compteur sans période normale, est mal jugé.",
    "Les petits compteurs (une dizaine de passages par jour) ne permettent pas de voir les pics "
    "de quelques heures ni les sous-comptages courts : le bruit de comptage les masque.",
    "Un événement qui touche tous les compteurs le même jour (confinement, grève, tempête) est "
    "considéré comme réel et non comme une anomalie (mode commun retiré).",
    "Les performances sont mesurées sur un échantillon généré dont les anomalies sont injectées ; "
    "sur données réelles, seule la concordance avec l'indicateur publié est mesurable.",
]


def build(
    quick: bool = False, *, artifact: Path | None = None, card: Path | None = None
) -> dict[str, Any]:
    """Fit, evaluate and write the reference artifact and card; see ``build_reference``."""
    from models import bike_counters as bc

    paths = bc.PATHS
    artifact = Path(artifact) if artifact else paths.artifact
    card = Path(card) if card else paths.card
    with measure_footprint() as footprint:
        frame = bc.load()
        data = bc.prepare(frame, quick=quick)
        weather = bc.load_weather()
        detection = bc.run(data, weather, quick=quick)
        evaluation = bc.evaluate(data, detection, bc.load_labels())
        report = bc.quality(data)
    payload = bc.metrics(data, detection, evaluation, report, {"quick": quick, "sensitivity": 1.0})
    state = detection.model.to_state()
    save_model(state, artifact, metadata={"entry_id": bc.ENTRY_ID, "quick": quick})
    footprint["model_size_kb"] = artifact.stat().st_size / 1024
    text = render_card(
        bc.ENTRY_ID,
        title=bc.TITLE,
        intended_use=INTENDED_USE,
        data=payload["data"]
        | {
            "description": "Échantillon généré au format horaire de Nantes Métropole "
            "(15 boucles, 2 ans), avec anomalies injectées et étiquetées (labels.csv)."
        },
        metrics=payload,
        limits=LIMITS,
        footprint=footprint,
        metric_columns=["precision", "recall", "f1", "false_alarm_rate", "flagged_share"],
    )
    kinds = bc.kind_table(evaluation)
    if not kinds.empty:
        from models.card import markdown_table

        text += "\n## Performances par type d'anomalie (modèle, jours compteur)\n\n"
        text += markdown_table(kinds, decimals=3) + "\n"
    write_card(card, text)
    return {"artifact": artifact, "card": card, "metrics": payload}


def load_state(path: Path | None = None) -> dict[str, Any]:
    """The saved state dict (refuses any type outside the trusted list)."""
    from models import bike_counters as bc

    return load_model(Path(path) if path else bc.PATHS.artifact, trusted=TRUSTED)
