"""Tests of models.persist: skops round trips, explicit trusted types, refusal of the rest."""

import os
import zipfile

import numpy as np
import pandas as pd
import pytest
import skops.io as sio
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingRegressor, IsolationForest
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

from models.errors import BiblioError, ModelFileError, UntrustedModelError
from models.persist import (
    DEFAULT_TRUSTED,
    load_metadata,
    load_model,
    save_model,
    untrusted_types,
)


def data(n=120, seed=0):
    rng = np.random.default_rng(seed)
    x = pd.DataFrame({"a": rng.normal(size=n), "site": rng.choice(["x", "y", "z"], n)})
    y = 2 * x["a"] + rng.normal(scale=0.1, size=n)
    return x, y


def preprocess():
    return ColumnTransformer(
        [
            ("num", Pipeline([("imp", SimpleImputer()), ("sc", StandardScaler())]), ["a"]),
            ("cat", OneHotEncoder(handle_unknown="ignore"), ["site"]),
        ]
    )


def entry_models():
    """The kinds of fitted models the entries ship (quantile HGB, IsolationForest, logistic)."""
    x, y = data()
    return {
        "quantile_hgb": Pipeline(
            [
                ("prep", preprocess()),
                (
                    "model",
                    HistGradientBoostingRegressor(loss="quantile", quantile=0.9, max_iter=15),
                ),
            ]
        ).fit(x, y),
        "isolation_forest": Pipeline(
            [("prep", preprocess()), ("model", IsolationForest(n_estimators=10, random_state=0))]
        ).fit(x),
        "logistic": Pipeline([("prep", preprocess()), ("model", LogisticRegression())]).fit(
            x, y > 0
        ),
    }


@pytest.fixture(scope="module")
def models():
    return entry_models()


def test_default_trusted_list_covers_real_round_trips(models, tmp_path):
    # The list is checked against what skops really reports for our models, not guessed.
    found = set()
    for name, model in models.items():
        path = save_model(model, tmp_path / f"{name}.skops")
        found |= set(sio.get_untrusted_types(file=path))
    assert found, "skops should report at least numpy/tree types for these models"
    assert found <= set(DEFAULT_TRUSTED)


@pytest.mark.parametrize("name", ["quantile_hgb", "isolation_forest", "logistic"])
def test_round_trip_predicts_the_same(models, tmp_path, name):
    x, _ = data(seed=1)
    model = models[name]
    path = save_model(model, tmp_path / "sub" / f"{name}.skops", metadata={"entry": name})
    loaded = load_model(path)
    method = "decision_function" if name == "isolation_forest" else "predict"
    np.testing.assert_allclose(getattr(loaded, method)(x), getattr(model, method)(x))
    assert load_metadata(path) == {"entry": name}
    assert zipfile.is_zipfile(path)


def test_metadata_absent_is_empty(models, tmp_path):
    path = save_model(models["logistic"], tmp_path / "m.skops")
    assert load_metadata(path) == {}


def test_save_is_atomic_and_leaves_no_temp_file(models, tmp_path):
    path = tmp_path / "m.skops"
    save_model(models["logistic"], path)
    before = path.read_bytes()
    with pytest.raises(RuntimeError, match="cannot be saved"):
        save_model({"model": Unsavable()}, path)
    assert path.read_bytes() == before  # the previous file is intact
    assert sorted(os.listdir(tmp_path)) == ["m.skops"]


class Unsavable:
    def __getstate__(self):
        raise RuntimeError("cannot be saved")


def shout(values):
    return values


class Custom:
    def __init__(self):
        self.weight = 3


def test_function_inside_a_model_is_refused(tmp_path):
    x, y = data()
    model = Pipeline([("f", FunctionTransformer(shout)), ("m", LogisticRegression())])
    model.fit(x[["a"]], y > 0)
    path = tmp_path / "function.skops"
    sio.dump(model, path)  # a file made by someone else, outside save_model
    with pytest.raises(UntrustedModelError) as info:
        load_model(path)
    assert any("shout" in t for t in info.value.untrusted_types)
    assert "refusé" in str(info.value)
    assert "shout" in str(info.value)


def test_custom_class_is_refused_unless_trusted(tmp_path):
    path = tmp_path / "custom.skops"
    sio.dump({"model": Custom()}, path)
    assert untrusted_types(path) == [f"{Custom.__module__}.Custom"]
    with pytest.raises(UntrustedModelError):
        load_model(path)
    loaded = load_model(path, trusted=[*DEFAULT_TRUSTED, Custom])
    assert loaded["model"].weight == 3


def test_explicit_empty_trusted_list_refuses_tree_types(models, tmp_path):
    path = save_model(models["quantile_hgb"], tmp_path / "m.skops")
    with pytest.raises(UntrustedModelError) as info:
        load_model(path, trusted=[])
    assert "TreePredictor" in str(info.value)


def test_missing_and_damaged_files(tmp_path):
    with pytest.raises(ModelFileError, match="introuvable"):
        load_model(tmp_path / "absent.skops")
    bad = tmp_path / "bad.skops"
    bad.write_bytes(b"not a zip")
    with pytest.raises(ModelFileError, match="skops"):
        load_model(bad)
    assert issubclass(ModelFileError, BiblioError)
