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


def test_bounds_are_read_from_the_help_comment(tmp_path):
    import nbformat
    from runner_fixture import make_notebook

    source = (
        "q = 0.8  # niveau, entre 0.5 et 0.99\n"
        "n = 3  # au moins 1\n"
        "s = 1.0  # supérieur à 0\n"
        'p = "NO2"  # parmi "NO2", "O3"\n'
        "t = None  # type: float ; µg/m³, supérieur à 0 (None : réglementaire)\n"
        "libre = 2  # un commentaire sans borne"
    )
    nbformat.write(make_notebook([("parameters", source)]), str(tmp_path / "b.ipynb"))
    found = notebook_parameters(tmp_path / "b.ipynb")
    assert found["q"].bounds.text() == "entre 0.5 et 0.99"
    assert found["p"].bounds.choices == ("NO2", "O3")
    assert found["libre"].bounds.empty
    ok = ["q=0.5", "q=0.99", "n=1", "s=0.001", 'p="O3"', "t=None", "t=12", "libre=-5"]
    assert parse_param_args(ok, found)["q"] == 0.99
    for bad, words in [
        ("q=1.5", ["« q » doit être entre 0.5 et 0.99", "reçu : 1.5"]),
        ("q=0.49", ["entre 0.5 et 0.99"]),
        ("n=0", ["« n » doit être au moins 1"]),
        ("s=0", ["« s » doit être supérieur à 0"]),
        ("t=-1", ["« t » doit être supérieur à 0"]),
        ('p="CO"', ['« p » doit être parmi "NO2", "O3"']),
        ("q=NaN", ["« q » doit être un nombre fini"]),
        ("libre=1e999", ["« libre » attend une valeur de type entier"]),
        ("s=1e999", ["« s » doit être un nombre fini"]),
    ]:
        with pytest.raises(ParameterError) as err:
            parse_param_args([bad], found)
        for w in words:
            assert w in str(err.value), (bad, str(err.value))


@pytest.mark.parametrize("entry", ["canteen_attendance", "bike_counters", "air_quality"])
def test_every_number_of_the_shipped_notebooks_declares_bounds_its_default_meets(entry):
    from hub.runner.params import RESERVED, check_parameters
    from models.contract import REPO_ROOT

    found = notebook_parameters(REPO_ROOT / "notebooks" / f"{entry}.ipynb")
    for p in found.values():
        if p.name in RESERVED or p.type_name == "bool":
            continue
        if p.type_name in ("int", "float"):
            assert not p.bounds.empty, f"{entry}.{p.name} declares no bounds"
    defaults = {p.name: p.default for p in found.values() if p.name not in RESERVED}
    check_parameters(defaults, found)  # the defaults are inside their own bounds
