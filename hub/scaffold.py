"""``biblio new-entry <entry_id>``: scaffold every part of a new library entry.

Writes, from templates that already satisfy the entry contract (``docs/design.md``): the
dataset folder (``schema.json`` Table Schema with French titles, ``README.md`` datasheet,
``sample.csv`` made by the new seeded generator), ``models/<id>.py`` (a real baseline: ridge
regression on the calendar against a same-weekday mean), ``models/generators/<id>.py``,
``notebooks/<id>.ipynb`` (``parameters`` cell, writes ``metrics.json`` and
``predictions.csv``), the catalog record ``hub/catalog/entries/<id>.yaml`` (national data
model field names), then the reference model and its card (``build_reference``). Nothing is
overwritten; if a step fails, every file written so far is removed.
"""

from __future__ import annotations

import argparse
import json
import random
import string
import sys
from pathlib import Path

import nbformat

from hub import scaffold_templates
from hub.runner import entries
from models.errors import BiblioError
from models.fsutil import write_text

PARAMETERS = """data_path = None  # votre fichier CSV (None : l'échantillon fourni)
column_map = {}  # correspondance {"nom dans votre fichier": "nom attendu"}
quick = False  # mode rapide
output_dir = "resultats"  # dossier des résultats
test_days = 60  # nombre de jours de la période de test"""


class ScaffoldError(BiblioError):
    """The entry id is invalid or some of its files already exist."""


def schema(entry_id: str, title: str) -> dict:
    return {
        "name": entry_id,
        "title": title,
        "description": "Une ligne par site et par jour. Format à adapter à l'entrée.",
        "fields": [
            {
                "name": "site",
                "type": "string",
                "title": "Site",
                "description": "Identifiant ou nom du site (facultatif : une seule série sinon).",
            },
            {
                "name": "date",
                "type": "date",
                "format": "any",
                "title": "Date",
                "description": "Jour de la mesure, AAAA-MM-JJ ou JJ/MM/AAAA.",
                "constraints": {"required": True},
            },
            {
                "name": "valeur",
                "type": "number",
                "title": "Valeur journalière",
                "description": "Valeur observée ce jour-là (nombre positif ou nul).",
                "constraints": {"required": True, "minimum": 0},
            },
        ],
        "missingValues": ["", "NA", "n/d", "N/D", "-"],
    }


def datasheet(entry_id: str, title: str) -> str:
    return f"""# Fiche de données : {title}

Entrée de la bibliothèque : `{entry_id}`. Fiche créée par `biblio new-entry` : à compléter.

## Motivation
Pourquoi ce jeu de données existe, quelle décision il éclaire (à compléter).

## Composition
Une ligne par site et par jour :

| colonne | type | description |
|---|---|---|
| `site` | texte | identifiant ou nom du site (facultatif) |
| `date` | date | jour de la mesure (AAAA-MM-JJ ou JJ/MM/AAAA) |
| `valeur` | nombre | valeur observée ce jour-là (positive ou nulle) |

Le schéma complet est dans `schema.json` (Table Schema).

## Collecte
L'échantillon `sample.csv` est **généré** par `models/generators/{entry_id}.py` (graine
fixe) : ce ne sont pas des données réelles. Décrire ici la source réelle (producteur,
licence, fréquence de mise à jour).

## Usages et limites
- Usage prévu : essayer le modèle de référence et tester ses propres fichiers.
- Limites : l'échantillon ne reproduit pas toutes les particularités des données réelles.

## Licence
Échantillon généré : Licence Ouverte 2.0 (Etalab).
"""


def notebook(entry_id: str, title: str) -> nbformat.NotebookNode:
    md = nbformat.v4.new_markdown_cell
    code = nbformat.v4.new_code_cell
    params = code(PARAMETERS)
    params.metadata["tags"] = ["parameters"]
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.metadata["language_info"] = {"name": "python"}
    nb.cells = [
        md(
            f"# {title}\n\n"
            "Ce notebook prévoit une valeur journalière par site à partir du calendrier et la "
            "compare à une référence simple (la moyenne du même site et du même jour de la "
            "semaine). Pour l'essayer sur vos données, indiquez votre fichier dans "
            "`data_path` ci-dessous et, si vos colonnes portent d'autres noms, la "
            "correspondance dans `column_map`."
        ),
        params,
        code(
            f"from models import {entry_id} as entry\n"
            "from models.contract import metrics_payload, write_outputs"
        ),
        md("## 1. Les données et leur qualité\n\nLa note va de A (excellente) à E (inutilisable)."),
        code("frame = entry.load(data_path, column_map)\nquality = entry.quality(frame)\nquality"),
        md(
            "## 2. Le modèle face à la référence\n\n"
            "Le modèle apprend sur toute la période sauf les derniers jours, puis prévoit ces "
            "derniers jours ; on compare ses erreurs à celles de la référence (plus l'erreur "
            "est petite, mieux c'est)."
        ),
        code(
            "train, test = entry.split(frame, test_days=test_days)\n"
            "model = entry.fit(train, quick=quick)\n"
            "forecasts = {\n"
            "    entry.MODEL_NAME: entry.predict(model, test),\n"
            "    entry.BASELINE_NAME: entry.baseline(train, test),\n"
            "}\n"
            "scores = entry.evaluate(test, forecasts)\n"
            "entry.comparison(scores)"
        ),
        code("fig = entry.plot(test, forecasts)"),
        md(
            "## 3. Résultats enregistrés\n\n"
            "`metrics.json` et `predictions.csv` sont écrits dans `output_dir`."
        ),
        code(
            "metrics = metrics_payload(\n"
            "    entry.ENTRY_ID,\n"
            "    quality=quality,\n"
            "    test_period=(test['date'].min(), test['date'].max()),\n"
            "    model_name=entry.MODEL_NAME,\n"
            "    model_metrics=scores[entry.MODEL_NAME],\n"
            "    baselines={entry.BASELINE_NAME: scores[entry.BASELINE_NAME]},\n"
            "    parameters={'test_days': test_days, 'quick': quick, 'column_map': column_map},\n"
            ")\n"
            "table = entry.prediction_table(test, forecasts)\n"
            "written = write_outputs(output_dir, metrics, table)\n"
            "print('Fichiers écrits :', ', '.join(sorted(written)))"
        ),
        md(
            "## Limites\n\n"
            "- Le modèle ne connaît que le calendrier : ni la météo, ni les événements locaux.\n"
            "- L'échantillon fourni est généré ; sur vos données, vérifiez la note de qualité "
            "avant de vous fier aux résultats."
        ),
    ]
    return nb


def catalog_record(entry_id: str, title: str, root: Path) -> str:
    """YAML record: the catalog's own scaffold when available, else a minimal one."""
    try:
        from hub.catalog.records import scaffold_record
    except ImportError:
        scaffold_record = None
    if scaffold_record is not None:
        return scaffold_record(entry_id, title=title, root=root)
    q = lambda s: json.dumps(s, ensure_ascii=False)  # noqa: E731 - JSON strings are valid YAML
    return "\n".join(
        [
            f"# Fiche du catalogue de l'entrée {entry_id} (modèle de données national).",
            f"id: {entry_id}",
            "national:",
            f"  Nom_collectivite: {q('À compléter')}",
            f"  Nom_du_projet: {q(title)}",
            f"  Description_service: {q('À compléter : à quoi sert ce service ?')}",
            f"  Statut_du_projet: {q('En expérimentation')}",
            f"  type_algorithme: {q('Machine Learning')}",
            "expert:",
            f"  notebook: notebooks/{entry_id}.ipynb",
            f"  model_card: models/cards/{entry_id}.md",
            f"  datasheet: datasets/{entry_id}/README.md",
            "  launch: true",
            "",
        ]
    )


def _write(path: Path, text: str, created: list[Path]) -> None:
    write_text(path, text)
    created.append(path)


def scaffold_entry(
    entry_id: str, *, title: str | None = None, root: Path | str | None = None, build: bool = True
) -> list[Path]:
    """Create every part of ``entry_id`` under ``root``; return the files written."""
    if not entries.ENTRY_ID_RE.match(entry_id):
        raise ScaffoldError(
            f"Identifiant invalide : « {entry_id} ». Utilisez des minuscules, chiffres et "
            "tirets bas (snake_case), en commençant par une lettre, par exemple eau_potable."
        )
    base = entries.repo_root(root)
    paths = entries.entry_paths(entry_id, base)
    title = title or f"Nouvelle entrée {entry_id.replace('_', ' ')}"
    parts = [paths.notebook, paths.module, paths.generator, paths.dataset_dir]
    parts += [paths.catalog_record, paths.artifact, paths.card]
    existing = [p for p in parts if p.exists()]
    if existing:
        listing = ", ".join(str(p.relative_to(base)) for p in existing)
        raise ScaffoldError(f"L'entrée « {entry_id} » existe déjà en partie : {listing}.")
    values = {
        "entry_id": entry_id,
        "title_doc": title.replace('"', "'").replace("\\", "/"),
        "title_repr": json.dumps(title, ensure_ascii=False),
        "seed": random.Random(entry_id).randrange(10**6, 10**7),
    }
    created: list[Path] = []
    try:
        _write(paths.module, string.Template(scaffold_templates.MODULE).substitute(values), created)
        _write(
            paths.generator,
            string.Template(scaffold_templates.GENERATOR).substitute(values),
            created,
        )
        text = json.dumps(schema(entry_id, title), ensure_ascii=False, indent=2) + "\n"
        _write(paths.schema, text, created)
        _write(paths.datasheet, datasheet(entry_id, title), created)
        _write(paths.catalog_record, catalog_record(entry_id, title, base), created)
        _write_sample(paths.generator, paths.dataset_dir, created)
        _write(paths.notebook, nbformat.writes(notebook(entry_id, title)) + "\n", created)
        if build:
            module = entries.load_module(entry_id, base)
            module.build_reference()
            created += [p for p in (paths.artifact, paths.card) if p.exists()]
    except BaseException:
        for path in reversed(created):
            path.unlink(missing_ok=True)
        for path in (paths.artifact, paths.card):
            path.unlink(missing_ok=True)
        if paths.dataset_dir.is_dir() and not any(paths.dataset_dir.iterdir()):
            paths.dataset_dir.rmdir()
        raise
    return created


def _write_sample(generator: Path, dataset_dir: Path, created: list[Path]) -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location(f"_biblio_generator_{generator.stem}", generator)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    created.append(module.write_sample(dataset_dir))


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "new-entry",
        help="créer le squelette d'une nouvelle entrée (données, modèle, notebook, fiche)",
    )
    parser.add_argument("entry_id", help="identifiant snake_case, par exemple eau_potable")
    parser.add_argument("--title", help="titre en français de l'entrée")
    parser.add_argument(
        "--no-build", action="store_true", help="ne pas entraîner le modèle de référence"
    )
    parser.set_defaults(func=cmd_new_entry)


def cmd_new_entry(args: argparse.Namespace) -> int:
    created = scaffold_entry(args.entry_id, title=args.title, build=not args.no_build)
    base = entries.repo_root()
    print(f"Entrée « {args.entry_id} » créée :")
    for path in created:
        print(f"  {path.relative_to(base)}")
    print(
        f"Étapes suivantes : adaptez models/{args.entry_id}.py et son générateur, puis "
        f"« biblio run {args.entry_id} --quick » et les tests de contrat "
        "(pytest tests/unit/test_contract_entries.py).",
        file=sys.stdout,
    )
    return 0
