"""Reference model of ``canteen_attendance``: build it, save it, load it, write its card.

Full mode trains on the real Nantes Métropole file (all but its last four months, which it is
judged on); quick mode on the generated sample. The artifact holds the median
``HistGradientBoostingRegressor`` (skops); the safety level, conformal level and margins,
the spread of each canteen, the features and the backtests travel as JSON metadata inside
the same file.
"""

from __future__ import annotations

from pathlib import Path

from models.card import measure_footprint, render_card, write_card
from models.entries import entry_paths
from models.quality import fmt_fr

from .data import DEFAULT_TEST_MONTHS, ENTRY_ID, TITLE, load, quality, split
from .evaluation import CARD_METRICS, coverage, evaluate, metrics_payload
from .features import features
from .model import MODEL_NAME, CanteenForecaster, SafetyLevel, fit

INTENDED_USE = [
    "Prévoir, deux semaines à l'avance, le nombre de repas à commander pour chaque cantine "
    "scolaire. Les enfants doivent manger : la cuisine centrale fixe son **niveau de "
    "sécurité** (« au plus N jours de manque par mois ») et le modèle ajoute à sa prévision "
    "médiane la marge qui tient cette promesse, apprise sur des prévisions passées.",
    "Outil d'aide à la décision pour la cuisine centrale : la commande reste validée par les "
    "agents, qui connaissent les événements locaux (sorties, grèves annoncées).",
]
LIMITS = [
    "Ne connaît ni les grèves ni les sorties scolaires : ces jours-là, la prévision des agents "
    "reste indispensable.",
    "Utilise la prévision des agents du jour, saisie trois semaines avant (commande à la "
    "cuisine centrale) ; si vos agents la révisent dans les 14 derniers jours, entraînez sans "
    "elle (`use_agents=False`).",
    "Une nouvelle cantine n'a pas de prévision avant d'avoir quelques semaines d'historique ; "
    "il faut au moins un an d'historique pour calibrer la marge sur des prévisions passées.",
    "La couverture est tenue en moyenne sur les cantines et les mois : une cantine donnée ou "
    "un mois donné peut compter plus de jours de manque que le niveau choisi.",
]
SAMPLE_LIMIT = (
    "Entraîné et évalué ici sur un **échantillon généré** (30 cantines fictives, mode rapide) : "
    "les chiffres de cette fiche illustrent la méthode, ils ne garantissent rien sur une ville."
)
REAL_TEXT = (
    "Données ouvertes de Nantes Métropole (`datasets/canteen_attendance/"
    "nantes_frequentation.csv.gz`) : repas prévus par les agents et repas servis, par cantine "
    "et par jour, de janvier 2011 à décembre 2018. Le modèle n'a vu que ce qui précède les "
    "quatre derniers mois, sur lesquels il est jugé."
)
SAMPLE_TEXT = (
    "Échantillon généré (`models/canteen_attendance/sample.py`, graine fixe) au format des "
    "données ouvertes de Nantes Métropole : 30 cantines, septembre 2015 – juillet 2019, "
    "calendrier réel (jours fériés, vacances zone B, pas de service le mercredi)."
)


def build_reference(quick: bool = False, output_root: Path | str | None = None) -> dict:
    """Train on the real Nantes file (quick: the sample) but its last months, score on them,
    write the model file and the card.

    The files go to ``models/artifacts/canteen_attendance.skops`` and
    ``models/cards/canteen_attendance.md`` under ``output_root`` (default: this repository).
    Returns ``{"artifact": path, "card": path, "metrics": payload}``.
    """
    import sklearn
    import sklearn.ensemble  # noqa: F401 - imported before the fit is timed (footprint)

    from models.persist import save_model

    paths = entry_paths(ENTRY_ID, output_root)
    data = load(quick=quick)
    train, test = split(data, test_months=DEFAULT_TEST_MONTHS)
    feats = features(data)
    with measure_footprint() as footprint:
        model = fit(train, quick=quick, feats=feats)
    scores = evaluate(model, data, train, test, feats=feats)
    parameters = {
        "horizon_days": model.horizon_days,
        "short_days_per_month": model.safety.short_days_per_month,
        "test_months": DEFAULT_TEST_MONTHS,
        "quick": quick,
    }
    payload = metrics_payload(quality(data), test, scores, parameters, model)
    payload["data"]["description"] = SAMPLE_TEXT if quick else REAL_TEXT
    save_model(model.median, paths.artifact, metadata=model_metadata(model, sklearn.__version__))
    footprint["model_size_kb"] = paths.artifact.stat().st_size / 1024
    text = render_card(
        ENTRY_ID,
        title=TITLE,
        intended_use=INTENDED_USE,
        data=payload["data"],
        metrics=payload,
        limits=([SAMPLE_LIMIT] if quick else []) + LIMITS,
        footprint=footprint,
        metric_columns=list(CARD_METRICS),
    )
    section = coverage_section(model, coverage(model, scores[MODEL_NAME]))
    section += "\n" + city_section(data, quick)
    write_card(paths.card, text.replace("\n## Limites\n", f"\n{section}\n## Limites\n", 1))
    return {"artifact": paths.artifact, "card": paths.card, "metrics": payload}


def model_metadata(model: CanteenForecaster, sklearn_version: str) -> dict:
    """Everything but the regressor, as JSON (``load_reference`` rebuilds the model)."""
    return {
        "entry_id": ENTRY_ID,
        "features": model.features,
        "horizon_days": model.horizon_days,
        "safety": model.safety.to_dict(),
        "level": model.level,
        "margin": model.margin,
        "margins": {str(k): v for k, v in model.margins.items()},
        "scales": model.scales,
        "default_scale": model.default_scale,
        "backtest": model.backtest,
        "curve": model.curve,
        "trained_until": model.trained_until,
        "target": "ratio reel / base (moyenne même jour des 8 derniers jours connus), médiane",
        "sklearn_version": sklearn_version,
    }


def coverage_section(model: CanteenForecaster, cover: dict) -> str:
    """The card's section on the safety level: nominal and empirical coverage (French)."""
    info = model.backtest
    return "\n".join(
        [
            "## Niveau de sécurité et couverture",
            "",
            f"Niveau de sécurité : {model.safety.text()}.",
            "",
            f"- Couverture visée (nominale) : {fmt_fr(cover['nominal_pct'], 1)} %",
            f"- Couverture mesurée sur la période de test : {fmt_fr(cover['empirical_pct'], 1)} %"
            f" (écart : {fmt_fr(cover['gap_points'], 1)} points), soit "
            f"{fmt_fr(cover['empirical_short_days_per_month'], 2)} jours de manque par mois",
            f"- Niveau conforme retenu sur les essais : {fmt_fr(cover['level_pct'], 2)} %",
            f"- Marge apprise sur {info['folds']} blocs de {info['fold_months']} mois de "
            f"prévisions passées ({info['start']} → {info['end']}, "
            f"{fmt_fr(info['rows'], 0)} lignes), chacun prévu par un modèle entraîné sur "
            "ce qui le précède ; "
            f"`min_samples_leaf` = {info['min_samples_leaf']} choisi sur ces essais.",
            "",
        ]
    )


def city_section(data, quick: bool) -> str:
    """The same file added up by date (``city_wide``: what a file without canteen column
    gives), trained and judged on the same months: its line of the card (French)."""
    from .data import city_wide

    city = city_wide(data)
    train, test = split(city, test_months=DEFAULT_TEST_MONTHS)
    feats = features(city)
    model = fit(train, quick=quick, feats=feats)
    scores = evaluate(model, city, train, test, feats=feats)
    mine, cover = scores[MODEL_NAME], coverage(model, scores[MODEL_NAME])
    agents = scores.get("prevision_agents")
    versus = (
        f" (agents : {fmt_fr(agents['over_production_pct'], 2)} % et {agents['short_days']})"
        if agents
        else ""
    )
    over = fmt_fr(mine["over_production_pct"], 2)
    measured = fmt_fr(cover["empirical_pct"], 1)
    promised = fmt_fr(cover["nominal_pct"], 1)
    return (
        "Pour toute la ville (le même fichier additionné par jour, comme un fichier sans "
        f"colonne de cantine), niveau de sécurité : {model.safety.text()}. Sur les "
        f"{mine['n_days']} jours de test : surproduction {over} % et {mine['short_days']} "
        f"jour(s) de manque{versus} ; couverture mesurée {measured} % pour {promised} % visée.\n"
    )


def load_reference(path: Path | str | None = None) -> CanteenForecaster:
    """The reference model as a ``CanteenForecaster`` (types checked by ``load_model``)."""
    from models.persist import load_metadata, load_model

    target = Path(path or entry_paths(ENTRY_ID).artifact)
    meta = load_metadata(target)
    safety = meta["safety"]
    return CanteenForecaster(
        median=load_model(target),
        features=list(meta["features"]),
        horizon_days=int(meta["horizon_days"]),
        safety=SafetyLevel(
            float(safety["short_days_per_month"]),
            float(safety["days_per_month"]),
            str(safety["scope"]),
        ),
        level=float(meta["level"]),
        margin=float(meta["margin"]),
        scales={str(k): float(v) for k, v in meta["scales"].items()},
        default_scale=float(meta["default_scale"]),
        margins={float(k): float(v) for k, v in meta.get("margins", {}).items()},
        backtest=dict(meta.get("backtest", {})),
        curve=list(meta.get("curve", [])),
        trained_until=str(meta.get("trained_until", "")),
        metadata=meta,
    )
