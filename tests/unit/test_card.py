"""Tests of models.card: French model card filled from a metrics payload."""

import os

import pandas as pd

from models.card import markdown_table, measure_footprint, render_card, write_card
from models.contract import metrics_payload

PAYLOAD = metrics_payload(
    "canteen_attendance",
    quality={
        "rows": 5400,
        "period": ["2016-09-01", "2019-07-05"],
        "grade": "B",
        "reasons": ["Note B : bonne qualité.", "Valeurs manquantes : « reel » 2,0 %."],
    },
    test_period=("2018-09-03", "2018-12-21"),
    model_name="HistGradientBoosting quantile 0,9",
    model_metrics={"mae": 10.04, "mape": 8.5, "over_production_pct": 5.9, "short_days": 7},
    baselines={
        "Prévision des agents": {
            "mae": 11.5,
            "mape": 9.9,
            "over_production_pct": 8.8,
            "short_days": 9,
        },
        "Moyenne 8 semaines": {
            "mae": 14.2,
            "mape": 12.0,
            "over_production_pct": 7.1,
            "short_days": 40,
        },
    },
    parameters={"quantile": 0.9, "horizon_days": 14},
)


def render(**overrides):
    kwargs = dict(
        title="Prévision de la fréquentation des cantines",
        intended_use="Commander les repas 2 à 3 semaines à l'avance.",
        data=PAYLOAD["data"],
        metrics=PAYLOAD,
        limits=["Ne prévoit pas les grèves.", "Suppose un calendrier de zone B."],
    )
    kwargs.update(overrides)
    return render_card("canteen_attendance", **kwargs)


def test_card_sections_in_french():
    text = render(
        footprint={
            "wall_seconds": 3.21,
            "cpu_seconds": 5.0,
            "peak_memory_mb": 310,
            "energy_wh": 0.0208,
            "model_size_kb": 420,
        }
    )
    for heading in [
        "## Usage prévu",
        "## Données",
        "## Performances face aux références",
        "## Limites",
        "## Empreinte de calcul",
    ]:
        assert heading in text
    assert text.startswith("# Fiche modèle : Prévision de la fréquentation des cantines")
    assert "- Ne prévoit pas les grèves." in text
    assert "Période de test : du 2018-09-03 au 2018-12-21." in text
    assert "Note de qualité des données : **B**" in text
    assert "- Lignes : 5\u202f400" in text
    assert "Durée d'entraînement : 3,2 s" in text
    assert "Taille du fichier de modèle : 420 Ko" in text


def test_performance_table_model_vs_baselines():
    text = render()
    table = [line for line in text.splitlines() if line.startswith("|")]
    assert table[0] == "| Modèle | MAE | MAPE (%) | Surproduction (%) | Jours de manque |"
    assert table[2] == "| HistGradientBoosting quantile 0,9 (modèle) | 10,04 | 8,50 | 5,90 | 7 |"
    assert table[3].startswith("| Prévision des agents (référence) | 11,50 |")
    assert len(table) == 5
    assert "Empreinte de calcul\n\nNon mesurée." in text


def test_metric_columns_selection():
    text = render(metric_columns=["over_production_pct", "short_days"])
    assert "| Modèle | Surproduction (%) | Jours de manque |" in text
    assert "| MAE |" not in text


def test_measure_footprint():
    with measure_footprint() as fp:
        sum(i * i for i in range(200_000))
    assert fp["wall_seconds"] > 0 and fp["cpu_seconds"] > 0
    assert fp["peak_memory_mb"] > 10
    assert fp["energy_wh"] > 0


def test_markdown_table_escapes_and_formats():
    table = pd.DataFrame({"a": [1.5, 2.25], "b": ["x|y", None]}, index=["r1", "r2"])
    text = markdown_table(table)
    assert text.splitlines()[2] == "| r1 | 1,50 | x\\|y |"
    assert text.splitlines()[3] == "| r2 | 2,25 | — |"


def test_write_card_atomic(tmp_path):
    path = write_card(tmp_path / "cards" / "x.md", "# Fiche")
    assert path.read_text(encoding="utf-8") == "# Fiche\n"
    assert os.listdir(tmp_path / "cards") == ["x.md"]
