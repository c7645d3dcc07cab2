from pathlib import Path

import pytest
from runner_fixture import make_repo

from hub.runner.params import (
    ParameterError,
    notebook_parameters,
    parse_map_args,
    parse_param_args,
    parse_value,
)


@pytest.fixture(scope="module")
def params(tmp_path_factory):
    root = make_repo(tmp_path_factory.mktemp("repo"))
    return notebook_parameters(root / "notebooks" / "tiny.ipynb")


def test_types_are_inferred_from_the_literal_defaults(params):
    types = {name: p.type_name for name, p in params.items()}
    assert types == {
        "data_path": "NoneType",
        "column_map": "dict",
        "quick": "bool",
        "output_dir": "str",
        "horizon": "int",
        "alpha": "float",
        "label": "str",
        "fail": "bool",
    }
    assert params["horizon"].default == 7


def test_annotation_wins_over_the_default(tmp_path):
    import nbformat
    from runner_fixture import make_notebook

    nb = make_notebook([("parameters", "seuil: float = 1\nnoms: list = []")])
    nbformat.write(nb, str(tmp_path / "a.ipynb"))
    found = notebook_parameters(tmp_path / "a.ipynb")
    assert found["seuil"].type_name == "float"
    assert parse_param_args(["seuil=3"], found) == {"seuil": 3.0}


def test_values_are_python_or_json_literals(params):
    values = parse_param_args(["horizon=14", "alpha=2", "label=mon essai", "fail=true"], params)
    assert values == {"horizon": 14, "alpha": 2.0, "label": "mon essai", "fail": True}
    assert isinstance(values["alpha"], float)


def test_text_parameters_keep_numbers_as_text():
    assert parse_value("2024", "str") == "2024"
    assert parse_value("2024", "int") == 2024
    assert parse_value("[1, 2]", None) == [1, 2]
    assert parse_value("null", None) is None


def test_unknown_parameter_is_refused_with_the_valid_list_in_french(params):
    with pytest.raises(ParameterError) as err:
        parse_param_args(["horizn=3"], params)
    text = str(err.value)
    assert "paramètre inconnu : « horizn »" in text
    assert "horizon (entier, défaut : 7)" in text
    assert "alpha (nombre, défaut : 0.5)" in text
    assert "data_path" not in text.split("Paramètres valides")[1]


@pytest.mark.parametrize(
    "item, expected",
    [
        ("horizon=abc", "entier"),
        ("horizon=1.5", "entier"),
        ("fail=1", "booléen"),
        ("alpha=True", "nombre"),
        ("horizon=True", "entier"),
    ],
)
def test_mistyped_parameter_is_refused(params, item, expected):
    with pytest.raises(ParameterError) as err:
        parse_param_args([item], params)
    assert f"de type {expected}" in str(err.value)


def test_reserved_parameters_point_to_their_option(params):
    with pytest.raises(ParameterError) as err:
        parse_param_args(["output_dir=ailleurs"], params)
    assert "--out" in str(err.value)


def test_malformed_items_are_refused():
    with pytest.raises(ParameterError, match="NOM=VALEUR"):
        parse_param_args(["horizon"], {})
    with pytest.raises(ParameterError, match="cible manquant"):
        parse_map_args(["reel="])


def test_map_keeps_spaces_in_their_column_names():
    assert parse_map_args(["Nombre de repas=reel", "date=date"]) == {
        "Nombre de repas": "reel",
        "date": "date",
    }


def test_notebook_without_kernelspec_is_still_inspected(tmp_path):
    import nbformat
    from runner_fixture import make_notebook

    nb = make_notebook([("parameters", "x = 1")])
    del nb.metadata["kernelspec"]
    nbformat.write(nb, str(tmp_path / "b.ipynb"))
    assert notebook_parameters(Path(tmp_path / "b.ipynb"))["x"].type_name == "int"
