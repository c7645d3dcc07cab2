"""The entry contract (docs/design.md) checked on every real entry of the repository.

Parametrised over ``models.contract.entry_ids()``; the same checks run on a freshly
scaffolded entry in ``tests/unit/test_scaffold.py``. Fails when the library has no entry.
Every entry is one package ``models/<id>/`` with the modules ``models.entries.ENTRY_MODULES``
and an ``__init__`` exposing ``ENTRY_ID``, ``TITLE`` and ``models.entries.ENTRY_API``.
"""

import importlib
import inspect

import pytest
import yaml

from hub.runner.checks import (
    contract_problems,
    module_problems,
    notebook_problems,
    package_problems,
)
from models.contract import REPO_ROOT, entry_ids, entry_paths
from models.entries import ENTRY_API, ENTRY_MODULES

IDS = entry_ids()


def test_the_library_has_entries():
    assert IDS, f"no entry: no notebook in {REPO_ROOT / 'notebooks'}"


@pytest.mark.parametrize("entry_id", IDS)
def test_entry_follows_the_contract(entry_id):
    problems = contract_problems(entry_id, REPO_ROOT)
    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize("entry_id", IDS)
def test_notebook_is_committed_without_outputs(entry_id):
    # Also part of contract_problems; kept apart so that the failure names the cause.
    problems = [p for p in notebook_problems(entry_paths(entry_id).notebook) if "sorties" in p]
    assert problems == []


@pytest.mark.parametrize("entry_id", IDS)
def test_entry_package_has_the_same_module_names(entry_id):
    package = entry_paths(entry_id).package
    assert sorted(p.stem for p in package.glob("*.py")) == sorted(["__init__", *ENTRY_MODULES])


def _parameters(function) -> list[str]:
    return list(inspect.signature(function).parameters)


def _required_positional(function) -> int:
    return sum(
        p.default is inspect.Parameter.empty
        and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        for p in inspect.signature(function).parameters.values()
    )


@pytest.mark.parametrize("entry_id", IDS)
def test_entry_exposes_the_common_api_by_name(entry_id):
    entry = importlib.import_module(f"models.{entry_id}")
    assert entry.ENTRY_ID == entry_id and entry.TITLE.strip()
    assert [name for name in ENTRY_API if not callable(getattr(entry, name, None))] == []
    assert set(ENTRY_API) <= set(entry.__all__)
    # what the runner, the command line and the notebooks call the same way in every entry
    assert _parameters(entry.load_with_report)[:2] == ["data_path", "column_map"]
    assert _required_positional(entry.load_with_report) == 0  # no argument: the sample
    assert _parameters(entry.validate_file)[:2] == ["path", "column_map"]
    assert _required_positional(entry.validate_file) == 1
    assert _parameters(entry.build_reference) == ["quick", "output_root"]
    assert _required_positional(entry.quality) == 1
    assert _required_positional(entry.fit) >= 1  # the data
    assert _required_positional(entry.predict) >= 2  # the model, the data


def test_contract_checks_name_missing_and_extra_modules(tmp_path):
    package = tmp_path / "models" / "demo"
    package.mkdir(parents=True)
    for name in ("__init__", *ENTRY_MODULES[:-1], "outils"):
        (package / f"{name}.py").write_text('"""Module."""\n', encoding="utf-8")
    problems = package_problems("demo", package)
    assert len(problems) == 2
    assert problems[0].startswith(f"models/demo/ : module {ENTRY_MODULES[-1]}.py absent")
    assert problems[1].startswith("models/demo/ : module outils.py en trop")


def test_contract_checks_name_missing_functions_of_the_common_api(tmp_path):
    package = tmp_path / "models" / "demo"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(
        '"""Démo."""\nENTRY_ID = "demo"\nTITLE = "Démo"\n\n\ndef fit(data):\n    return data\n',
        encoding="utf-8",
    )
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "notebooks" / "demo.ipynb").write_text("{}", encoding="utf-8")  # the entry exists
    problems = module_problems("demo", tmp_path, tmp_path / "absent.csv")
    missing = [name for name in ENTRY_API if name != "fit"]
    assert problems == [f"models/demo/__init__.py : fonction {name}() absente" for name in missing]


@pytest.mark.parametrize("entry_id", IDS)
def test_catalog_record_shows_the_whole_package_to_experts(entry_id):
    paths = entry_paths(entry_id)
    record = yaml.safe_load(paths.catalog_record.read_text(encoding="utf-8"))
    sources = record["expert"]["sources"]
    package = {f"models/{entry_id}/{p.name}" for p in paths.package.glob("*.py")}
    assert len(package) == len(ENTRY_MODULES) + 1 and package <= set(sources)
    assert all((REPO_ROOT / source).is_file() for source in sources)


@pytest.mark.parametrize("entry_id", IDS)
def test_committed_reference_model_loads_with_its_trusted_types_only(entry_id):
    import skops.io as sio

    from models.errors import UntrustedModelError
    from models.persist import load_model

    artifact = entry_paths(entry_id).artifact
    # the files hold library types only: moving the entry's code cannot break them
    assert not [t for t in sio.get_untrusted_types(file=artifact) if t.startswith("models.")]
    assert importlib.import_module(f"models.{entry_id}").load_reference() is not None
    with pytest.raises(UntrustedModelError):
        load_model(artifact, trusted=())
