"""The HTML report of a run: the executed notebook without code, for non-coders (French).

The notebook's own Markdown and outputs carry the content (data-quality grade, results,
plots, comparison with baselines, limits). This module removes the code and the technical
cells (parameters, warnings on stderr), adds a French header with the run's information and
a footer with its footprint, then renders a self-contained HTML page with nbconvert
(``exclude_input``: no code cell input is written; images are embedded). The template
``templates/rapport`` is JupyterLab's without its scripts from a CDN (require.js, MathJax,
Mermaid): the report opens offline and sends nothing to third parties.
"""

from __future__ import annotations

import copy
import datetime as dt
import html
from pathlib import Path
from typing import Any

import nbformat
from nbconvert import HTMLExporter

from hub.runner.footprint import to_french

TEMPLATES = Path(__file__).resolve().parent / "templates"
HIDDEN_TAGS = {"parameters", "injected-parameters", "remove-cell", "rapport-masquer"}


def _esc(value: Any) -> str:
    return html.escape(str(value), quote=False).replace("|", "\\|").replace("*", "\\*")


def _french_date(iso: str) -> str:
    try:
        when = dt.datetime.fromisoformat(iso)
    except ValueError:
        return iso
    return when.strftime("%d/%m/%Y à %H:%M")


def header_markdown(run: dict[str, Any]) -> str:
    """French header: what was run, on which data, with which parameters."""
    data = run.get("input") or {}
    if data.get("path"):
        source = (
            f"fichier fourni « {_esc(Path(data['path']).name)} » (SHA-256 {data['sha256'][:12]}…)"
        )
    else:
        source = "échantillon fourni avec l'entrée (données générées)"
    params = run.get("parameters_user") or {}
    params_text = ", ".join(f"`{_esc(k)} = {_esc(repr(v))}`" for k, v in params.items()) or "aucun"
    mapping = run.get("column_map") or {}
    map_text = ", ".join(f"« {_esc(k)} » → `{_esc(v)}`" for k, v in mapping.items()) or "aucune"
    return "\n".join(
        [
            f"# Rapport d'exécution — {_esc(run.get('title', run['entry_id']))}",
            "",
            "Ce rapport a été produit automatiquement par `biblio run` : le code est masqué, "
            "seuls les explications et les résultats sont présentés. Le notebook exécuté, "
            "`metrics.json` et les prédictions sont dans le même dossier.",
            "",
            f"- **Entrée de la bibliothèque** : `{_esc(run['entry_id'])}`",
            f"- **Date d'exécution** : {_esc(_french_date(run['timings']['started']))}",
            f"- **Données** : {source}",
            f"- **Correspondance de colonnes** : {map_text}",
            f"- **Mode rapide** : {'oui' if run.get('quick') else 'non'}",
            f"- **Paramètres modifiés** : {params_text}",
        ]
    )


def footer_markdown(run: dict[str, Any]) -> str:
    """French footer: footprint (an estimate) and software versions."""
    lines = ["## Exécution et empreinte environnementale", ""]
    fp = run.get("footprint")
    if fp:
        lines += [f"- {_esc(line)}" for line in to_french(fp)]
    versions = run.get("versions") or {}
    if versions:
        lines += [
            "",
            "Logiciels : " + ", ".join(f"{_esc(k)} {_esc(v)}" for k, v in versions.items()) + ".",
        ]
    lines += [
        "",
        "*Les chiffres d'énergie et d'émissions sont des estimations, pas des mesures : ils "
        "dépendent du matériel et du centre de données réels.*",
    ]
    return "\n".join(lines)


def report_notebook(nb: nbformat.NotebookNode, run: dict[str, Any]) -> nbformat.NotebookNode:
    """A copy of ``nb`` ready for the report: technical cells out, header and footer in."""
    out = copy.deepcopy(nb)
    cells = []
    for cell in out.cells:
        tags = set(cell.get("metadata", {}).get("tags", []))
        if tags & HIDDEN_TAGS:
            continue
        if cell.cell_type == "raw":
            continue
        if cell.cell_type == "code":
            cell.source = ""  # belt and braces: no code reaches the exporter
            cell.outputs = [
                o
                for o in cell.get("outputs", [])
                if not (o.get("output_type") == "stream" and o.get("name") == "stderr")
            ]
            if not cell.outputs:
                continue
        cells.append(cell)
    out.cells = [
        nbformat.v4.new_markdown_cell(header_markdown(run)),
        *cells,
        nbformat.v4.new_markdown_cell(footer_markdown(run)),
    ]
    return out


def render_html(nb: nbformat.NotebookNode, run: dict[str, Any]) -> str:
    """Self-contained French HTML report of an executed notebook, without any code."""
    exporter = HTMLExporter(
        extra_template_basedirs=[str(TEMPLATES)],
        template_name="rapport",
        embed_images=True,
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )
    exporter.language_code = "fr"
    title = f"Rapport — {run.get('title', run['entry_id'])}"
    body, _ = exporter.from_notebook_node(
        report_notebook(nb, run), resources={"metadata": {"name": title}}
    )
    return body


def write_report(executed: Path, target: Path, run: dict[str, Any]) -> Path:
    nb = nbformat.read(str(executed), as_version=4)
    target.write_text(render_html(nb, run), encoding="utf-8")
    return target
