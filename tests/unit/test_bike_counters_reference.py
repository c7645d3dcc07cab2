"""bike_counters reference model: build, skops round trip, refusal of untrusted types."""

import numpy as np
import pytest

from models import bike_counters as bc
from models.bike_counters.features import day_features
from models.bike_counters.model import Detector
from models.bike_counters.reference import TRUSTED
from models.errors import DataReadError, UntrustedModelError
from models.persist import load_model


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("ref")
    result = bc.build_reference(quick=True, output_root=out)
    assert result["artifact"] == out / "models" / "artifacts" / "bike_counters.skops"
    return result


def test_build_writes_artifact_and_french_card(built):
    card = built["card"].read_text(encoding="utf-8")
    assert "Fiche modèle" in card and "Performances par type d'anomalie" in card
    f1 = built["metrics"]["model"]["metrics"]["f1"]
    assert f"{f1:.2f}".replace(".", ",") in card
    assert set(built["metrics"]["baselines"]) == {
        "regle_3_jours_a_zero",
        "regle_heures_nulles_ou_manquantes",
        "isolation_forest",
    }


def test_skops_round_trip_predicts_the_same(built):
    state = bc.load_reference(built["artifact"])
    detector = Detector.from_state(state)
    model = detector.expected
    data = bc.prepare(bc.load(), quick=True)
    X = day_features(data.days.head(50), model.counters, bc.load_weather())
    again = model.regressor.predict(X[model.feature_names])
    assert np.isfinite(again).all()
    assert model.profiles and all(p.shape == (3, 24) for p in model.profiles.values())
    assert np.allclose([p.sum(axis=1) for p in model.profiles.values()], 1.0)
    # the restored detector flags the sample like the one that was saved
    assert detector.thresholds == built["metrics"]["model"]["metrics"]["thresholds"]
    days = bc.predict(detector, data, bc.load_weather()).days
    assert 0 < days["flag"].mean() < 0.3
    assert set(detector.peers.peers) == set(model.counters)


def test_untrusted_types_are_refused(built):
    with pytest.raises(UntrustedModelError):
        load_model(built["artifact"], trusted=[t for t in TRUSTED if "partial" not in t])


def test_bad_parameters_give_french_errors():
    data = bc.prepare(bc.load(), quick=True)
    with pytest.raises(DataReadError, match="sensibilité"):
        bc.run(data, sensitivity=50)
    with pytest.raises(DataReadError, match="compteurs demandés"):
        bc.prepare(bc.load(), counters=["9999"])
