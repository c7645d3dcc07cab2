"""Reference model of ``bike_counters``: fitted on the committed sample, saved with skops.

The artifact holds the detector as plain values (``model.Detector.to_state``: the
gradient-boosting regressor, counter ids, trends, hourly profiles, peers, spreads and the
thresholds chosen by backtests) — no custom class, so ``models.persist.load_model`` loads it
with the shared trusted-type list. The French card reports the scores on the sample's labels
for the model and each baseline and, in full mode, the injection protocol on the shipped
real Nantes file (trained on 2020, judged on 2021-01-01 → 2021-05-30, never seen).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from models.card import markdown_table, measure_footprint, render_card, write_card
from models.entries import entry_paths
from models.persist import DEFAULT_TRUSTED, load_model, save_model

from .data import ENTRY_ID, TITLE, load, load_labels, load_weather, prepare, quality
from .evaluation import evaluate, kind_table, metrics_payload, protocol_table, realdata_protocol
from .model import run

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
    "Le modèle apprend le comportement normal sur une période d'apprentissage : un compteur "
    "sans période normale (en panne pendant tout l'apprentissage) n'est jugé que par les "
    "règles (heures manquantes, journées à zéro).",
    "Sur données réelles, une part des jours « normaux » (non notés « Forte » par le "
    "producteur) sont de vraies pannes non signalées : les fausses alertes mesurées les "
    "comptent. Les seuils acceptent jusqu'à 5 % de jours normaux signalés dans les "
    "rétro-tests pour retrouver 90 % des anomalies injectées. Sur Nantes 2021 (appris sur "
    "2020, trois graines), 4,5 % des jours normaux sont signalés et 80 % des jours de pic "
    "retrouvés ; avec des seuils quatre fois plus stricts (sensibilité 0,25), 1,2 % des jours "
    "normaux restent signalés (boucles à dix fois leur trafic ou presque à zéro pendant des "
    "semaines) pour 20 % des pics : l'objectif de 1 % de fausses alertes avec 90 % des pics "
    "n'est atteint à aucune sensibilité (compromis complet : benchmarks/realdata.py --only "
    "bike_counters).",
    "Les petits compteurs (une dizaine de passages par jour) ne permettent pas de voir les pics "
    "de quelques heures ni les sous-comptages courts : le bruit de comptage les masque.",
    "Un événement qui touche tous les compteurs le même jour (confinement, grève, tempête) est "
    "considéré comme réel et non comme une anomalie (mode commun retiré).",
    "Sur données réelles, les performances sont mesurées sur des anomalies injectées dans des "
    "jours réels ; de vraies anomalies d'un autre genre peuvent être moins bien vues.",
]


SAMPLE_SPLIT = 0.5
"""The card judges the second half of the sample (2023, or the last months in quick mode),
the detector having learnt on the first half only."""


def build_reference(quick: bool = False, output_root: Path | str | None = None) -> dict[str, Any]:
    """Fit on the first half of the sample, judge the second half against its labels, write the
    skops artifact and the card (plus, in full mode, the injection protocol on the real file).

    The files go to ``models/artifacts/bike_counters.skops`` and ``models/cards/bike_counters.md``
    under ``output_root`` (default: this repository). Returns ``{"artifact": path, "card":
    path, "metrics": payload}`` (and ``"realdata"`` in full mode).
    """
    paths = entry_paths(ENTRY_ID, output_root)
    with measure_footprint() as footprint:
        data = prepare(load(), quick=quick)
        weather, labels = load_weather(), load_labels()
        dates = data.days["date"]
        train_end = dates.min() + (dates.max() - dates.min()) * SAMPLE_SPLIT
        train_end = train_end.normalize()
        detection = run(data, weather, quick=quick, train_end=train_end, events=labels)
        judged = data.select(start=train_end + pd.Timedelta(days=1))
        detection = detection.since(train_end + pd.Timedelta(days=1))
        evaluation = evaluate(judged, detection, labels)
        report = quality(judged)
    parameters = {"quick": quick, "sensitivity": 1.0, "train_end": train_end.strftime("%Y-%m-%d")}
    payload = metrics_payload(judged, detection, evaluation, report, parameters)
    state = detection.model.to_state()
    save_model(state, paths.artifact, metadata={"entry_id": ENTRY_ID, "quick": quick})
    footprint["model_size_kb"] = paths.artifact.stat().st_size / 1024
    text = render_card(
        ENTRY_ID,
        title=TITLE,
        intended_use=INTENDED_USE,
        data=payload["data"]
        | {
            "description": "Échantillon généré au format horaire de Nantes Métropole "
            "(15 boucles, 2 ans), avec anomalies injectées et étiquetées (labels.csv) ; "
            f"apprentissage jusqu'au {train_end:%d/%m/%Y}, scores sur les jours suivants."
        },
        metrics=payload,
        limits=LIMITS,
        footprint=footprint,
        metric_columns=["precision", "recall", "f1", "false_alarm_rate", "flagged_share"],
    )
    kinds = kind_table(evaluation)
    if not kinds.empty:
        text += "\n## Performances par type d'anomalie (modèle, jours compteur)\n\n"
        text += markdown_table(kinds, decimals=3) + "\n"
    out = {"artifact": paths.artifact, "card": paths.card, "metrics": payload}
    if not quick:
        real = realdata_protocol()
        text += realdata_section(real)
        out["realdata"] = {k: v for k, v in real.items() if k in ("recall", "false_alarm_rate")}
    write_card(paths.card, text)
    return out


def _percent(share: float) -> str:
    return f"{100 * share:.1f} %".replace(".", ",")


def realdata_section(result: dict[str, Any]) -> str:
    """Markdown section of the card: the injection protocol on the real Nantes file."""
    train, judged = result["train_period"], result["judged_period"]
    return (
        "\n## Sur données réelles jamais vues (Nantes Métropole, comptages horaires)\n\n"
        f"Apprentissage du {train[0]} au {train[1]} (seuils choisis par rétro-tests dans cette "
        f"période) ; anomalies injectées (graine {result['seed']}) dans les jours réels du "
        f"{judged[0]} au {judged[1]}, {result['counters']} compteurs. Rappel par type (jours "
        "compteur et événements retrouvés) ; fausses alertes sur les jours normaux (sans "
        "anomalie injectée, non notés « Forte », toutes heures publiées) : "
        f"{_percent(result['false_alarm_rate'])} ; sur tous les jours non « Forte » : "
        f"{_percent(result['false_alarm_rate_all'])}.\n\n"
        + markdown_table(protocol_table(result), decimals=3)
        + "\n"
    )


def load_reference(path: Path | str | None = None) -> dict[str, Any]:
    """The saved state dict of the expected-count model (``model.ExpectedModel.from_state``);
    refuses any type outside ``TRUSTED``."""
    return load_model(Path(path) if path else entry_paths(ENTRY_ID).artifact, trusted=TRUSTED)
